"""Alarm performance figures (ISA-18.2 / IEC 62682) from condition events, as plain logic.

Input: the condition events of a window (the journal's and the server's history, merged),
the spans of time those events cover, and the conditions the server retains now. Only
covered time counts: a rate is activations in covered time per covered 10 minutes, and a
10-minute interval counts for the maximum and for floods only when it is covered whole.

- an activation is a condition going active (ActiveState's transition time, else the
  event's time); an acknowledgement or a comment is an event too, never an activation;
- chattering: ``chatter_count`` activations of one alarm within ``chatter_window``;
- fleeting: back to normal within ``fleeting`` of the activation;
- stale: active for longer than ``stale`` at the end of the window;
- flood: more than ``flood_count`` activations in a 10-minute interval at one position;
- shelved and suppressed: spans from the event that shelved (suppressed) to the one that
  unshelved, or to the end of the window when it still holds.
"""

from __future__ import annotations

import fnmatch
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from agent.policy.models import AlarmsPolicy
from agent.settings import AlarmSettings
from tools.opcua.models import ConditionState

INTERVAL = timedelta(minutes=10)
Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Rules:
    """Thresholds of the figures (settings ``[alarms]``) and the site's priorities."""

    priorities: AlarmsPolicy
    positions: dict[str, list[str]] = field(default_factory=lambda: {"console": ["*"]})
    acceptable_rate: float = 1.0
    manageable_rate: float = 2.0
    flood_count: int = 10
    chatter_count: int = 3
    chatter_window: timedelta = timedelta(seconds=60)
    fleeting: timedelta = timedelta(seconds=1)
    stale: timedelta = timedelta(hours=24)
    top_n: int = 10

    @classmethod
    def from_settings(cls, settings: AlarmSettings, priorities: AlarmsPolicy) -> Rules:
        """The rules a site configured."""
        return cls(priorities=priorities, positions=dict(settings.positions),
                   acceptable_rate=settings.acceptable_rate,
                   manageable_rate=settings.manageable_rate, flood_count=settings.flood_count,
                   chatter_count=settings.chatter_count,
                   chatter_window=timedelta(seconds=settings.chatter_window_s),
                   fleeting=timedelta(seconds=settings.fleeting_s),
                   stale=timedelta(hours=settings.stale_hours))

    def position_of(self, source: str) -> str:
        """The operator position an alarm of ``source`` counts for."""
        equipment = source.split(".", 1)[0]
        for name, patterns in self.positions.items():
            if any(fnmatch.fnmatchcase(source, p) or fnmatch.fnmatchcase(equipment, p)
                   for p in patterns):
                return name
        return "unassigned"


@dataclass
class Episode:
    """One stretch of a condition being active (or shelved, or suppressed)."""

    condition_id: str
    name: str
    source: str
    severity: int
    start: datetime
    end: datetime | None = None
    kind: str = ""  # for shelves: TimedShelved / OneShotShelved
    before_window: bool = False  # it began before the window (start = first seen)

    def duration(self, until: datetime) -> timedelta:
        """How long it lasted (until ``until`` when it still holds)."""
        return (self.end or until) - self.start


@dataclass
class Timeline:
    """What the events of a window say, per condition."""

    activations: list[Episode] = field(default_factory=list)
    standing: list[Episode] = field(default_factory=list)  # active when the window began
    shelves: list[Episode] = field(default_factory=list)
    suppressions: list[Episode] = field(default_factory=list)


def timeline(events: Sequence[ConditionState], since: datetime) -> Timeline:
    """Activations, shelves and suppressions from events (any order)."""
    out = Timeline()
    by_condition: dict[str, list[ConditionState]] = defaultdict(list)
    for e in events:
        if e.time is not None:
            by_condition[e.condition_id].append(e)
    for evs in by_condition.values():
        evs.sort(key=lambda e: e.time or since)
        active: Episode | None = None
        was: bool | None = None
        shelf: Episode | None = None
        shelved: bool | None = None
        hidden: Episode | None = None
        suppressed: bool | None = None
        for e in evs:
            when = e.time or since
            if e.active is not None:
                at = e.active_since or when
                if e.active and was is not True:
                    active = Episode(e.condition_id, e.name, e.source, e.severity, at)
                    if at < since:
                        active.before_window = True
                        out.standing.append(active)
                    else:
                        out.activations.append(active)
                elif not e.active and was is True and active is not None:
                    active.end = at
                    active = None
                was = e.active
            if e.shelving is not None:
                now_shelved = e.shelved
                if now_shelved and shelved is not True:
                    # First seen shelved: it may have been shelved earlier ("at least").
                    shelf = Episode(e.condition_id, e.name, e.source, e.severity, when,
                                    kind=e.shelving or "", before_window=shelved is None)
                    out.shelves.append(shelf)
                elif not now_shelved and shelved is True and shelf is not None:
                    shelf.end = when
                    shelf = None
                shelved = now_shelved
            if e.suppressed is not None:
                if e.suppressed and suppressed is not True:
                    hidden = Episode(e.condition_id, e.name, e.source, e.severity, when,
                                     before_window=suppressed is None)
                    out.suppressions.append(hidden)
                elif not e.suppressed and suppressed is True and hidden is not None:
                    hidden.end = when
                    hidden = None
                suppressed = e.suppressed
    return out


def merge_spans(spans: Sequence[Span]) -> list[Span]:
    """Overlapping or touching spans joined, in order."""
    out: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def gaps(covered: Sequence[Span], since: datetime, until: datetime) -> list[Span]:
    """The parts of [since, until] no span covers."""
    out: list[Span] = []
    cursor = since
    for start, end in merge_spans(covered):
        if start > cursor:
            out.append((cursor, min(start, until)))
        cursor = max(cursor, end)
    if cursor < until:
        out.append((cursor, until))
    return [g for g in out if g[1] > g[0]]


def inside(moment: datetime, spans: Sequence[Span]) -> bool:
    """True when ``moment`` lies in one of ``spans``."""
    return any(start <= moment <= end for start, end in spans)


@dataclass(frozen=True)
class PositionLoad:
    """Alarm load of one operator position."""

    position: str
    activations: int
    covered_minutes: float
    intervals: int  # 10-minute intervals covered whole
    average_per_10min: float | None
    max_per_10min: int
    intervals_over_manageable: int
    flood_intervals: int

    @property
    def flood_percent(self) -> float | None:
        """Share of the covered intervals in flood, %."""
        return None if not self.intervals else 100.0 * self.flood_intervals / self.intervals


def position_loads(activations: Sequence[Episode], covered: Sequence[Span], since: datetime,
                   until: datetime, rules: Rules) -> list[PositionLoad]:
    """Each position's rate per 10 minutes, its maximum and its flood intervals."""
    spans = merge_spans(covered)
    minutes = sum((b - a).total_seconds() for a, b in spans) / 60.0
    starts: list[datetime] = []
    t = since
    while t + INTERVAL <= until:
        if any(a <= t and t + INTERVAL <= b for a, b in spans):
            starts.append(t)
        t += INTERVAL
    by_position: dict[str, list[datetime]] = defaultdict(list)
    for act in activations:
        if inside(act.start, spans):
            by_position[rules.position_of(act.source)].append(act.start)
    names = list(dict.fromkeys([*rules.positions, *sorted(by_position)]))
    out = []
    for name in names:
        times = by_position.get(name, [])
        counts = [sum(1 for x in times if s <= x < s + INTERVAL) for s in starts]
        out.append(PositionLoad(
            position=name, activations=len(times), covered_minutes=minutes,
            intervals=len(starts),
            # Less than one interval of history says nothing about a rate per interval.
            average_per_10min=None if minutes < 10.0 else len(times) / minutes * 10.0,
            max_per_10min=max(counts, default=0),
            intervals_over_manageable=sum(1 for c in counts if c > rules.manageable_rate),
            flood_intervals=sum(1 for c in counts if c > rules.flood_count),
        ))
    return out


@dataclass(frozen=True)
class Chatter:
    """A chattering alarm: its activations and its worst burst."""

    name: str
    activations: int
    bursts: int
    most_in_window: int


def chattering(activations: Sequence[Episode], rules: Rules) -> list[Chatter]:
    """Alarms with ``chatter_count`` activations inside ``chatter_window``, worst first."""
    by_name: dict[str, list[datetime]] = defaultdict(list)
    for act in activations:
        by_name[act.name].append(act.start)
    out = []
    for name, times in by_name.items():
        times.sort()
        most, bursts, i = 0, 0, 0
        for j, t in enumerate(times):
            while t - times[i] > rules.chatter_window:
                i += 1
            most = max(most, j - i + 1)
        # Bursts counted without overlap: a burst ends when the window has moved past it.
        k = 0
        while k < len(times):
            inside_window = [t for t in times[k:] if t - times[k] <= rules.chatter_window]
            if len(inside_window) >= rules.chatter_count:
                bursts += 1
                k += len(inside_window)
            else:
                k += 1
        if most >= rules.chatter_count:
            out.append(Chatter(name, len(times), bursts, most))
    return sorted(out, key=lambda c: (-c.activations, c.name))


def fleeting(activations: Sequence[Episode], rules: Rules) -> dict[str, int]:
    """Per alarm, the activations that returned to normal within ``fleeting``."""
    out: Counter[str] = Counter()
    for act in activations:
        if act.end is not None and act.end - act.start < rules.fleeting:
            out[act.name] += 1
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def stale(line: Timeline, retained: Sequence[ConditionState], until: datetime,
          rules: Rules) -> dict[str, datetime]:
    """Alarms active at ``until`` for longer than ``stale``: name -> active since."""
    out: dict[str, datetime] = {}
    for ep in [*line.standing, *line.activations]:
        if ep.end is None and until - ep.start > rules.stale:
            out[ep.name] = min(ep.start, out.get(ep.name, ep.start))
    for s in retained:
        if s.active and s.active_since is not None and until - s.active_since > rules.stale:
            out[s.name] = min(s.active_since, out.get(s.name, s.active_since))
    return dict(sorted(out.items(), key=lambda kv: kv[1]))


def bad_actors(activations: Sequence[Episode], top_n: int) -> list[tuple[str, int, float]]:
    """The alarms with most activations: (name, activations, share of all)."""
    counts = Counter(a.name for a in activations)
    total = sum(counts.values())
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top_n]
    return [(name, n, n / total) for name, n in ranked] if total else []


def priority_split(activations: Sequence[Episode], policy: AlarmsPolicy) -> dict[str, int]:
    """Activations per priority, every priority listed (lowest first)."""
    out = {p.name: 0 for p in policy.priorities}
    for act in activations:
        out[policy.priority_of(act.severity)] += 1
    return out
