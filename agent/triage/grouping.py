"""Alarms into incidents: duplicates merged, floods collapsed, flapping flagged.

ISA-18.2 calls more than 10 alarms in 10 minutes per operator a flood; a flood is one
incident whose first-out alarm (the earliest activation) usually points at the cause.
A condition that becomes active again and again in the window is flapping: one incident,
flagged, never one report per activation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from agent.triage.models import AlarmEvent, Incident


@dataclass(frozen=True)
class GroupingRules:
    """Thresholds of the grouping (ISA-18.2 defaults)."""

    flood_count: int = 10
    flood_window: timedelta = timedelta(minutes=10)
    flap_count: int = 3


def _activations(events: Iterable[AlarmEvent]) -> dict[str, list[AlarmEvent]]:
    """Activations per condition, oldest first, exact duplicates dropped (the same
    condition seen by ConditionRefresh and by the event log)."""
    out: dict[str, dict[object, AlarmEvent]] = defaultdict(dict)
    for e in events:
        if e.active:
            out[e.condition].setdefault(e.time, e)
    return {c: sorted(d.values(), key=lambda e: e.time) for c, d in out.items()}


def _key_time(e: AlarmEvent) -> str:
    return e.time.strftime("%Y%m%dT%H%M%S")


def _flood(firsts: list[AlarmEvent], rules: GroupingRules) -> list[AlarmEvent] | None:
    """The largest set of activations inside one window, if it is a flood."""
    best: list[AlarmEvent] = []
    for i, start in enumerate(firsts):
        inside = [e for e in firsts[i:] if e.time - start.time <= rules.flood_window]
        if len(inside) > len(best):
            best = inside
    return best if len(best) > rules.flood_count else None


def group_alarms(
    events: Iterable[AlarmEvent], rules: GroupingRules | None = None
) -> list[Incident]:
    """Incidents of a set of alarm events (active conditions and recent transitions)."""
    rules = rules or GroupingRules()
    acts = _activations(events)
    if not acts:
        return []
    flapping = sorted(c for c, a in acts.items() if len(a) >= rules.flap_count)
    # One entry per condition: its earliest activation in view.
    firsts = sorted((a[0] for a in acts.values()), key=lambda e: (e.time, e.condition))
    flood = _flood(firsts, rules)
    if flood is not None:
        first = flood[0]
        rest = [e for e in firsts if e not in flood]
        flood_incident = _incident("flood", flood, first, flapping, acts)
        return [flood_incident, *_by_equipment(rest, flapping, acts)]
    return _by_equipment(firsts, flapping, acts)


def _by_equipment(
    firsts: list[AlarmEvent], flapping: list[str], acts: dict[str, list[AlarmEvent]]
) -> list[Incident]:
    groups: dict[str, list[AlarmEvent]] = defaultdict(list)
    for e in firsts:
        groups[e.equipment or f"?{e.tag}"].append(e)
    return [_incident("alarm", g, g[0], flapping, acts) for g in groups.values()]


def _incident(
    kind: str,
    group: list[AlarmEvent],
    first: AlarmEvent,
    flapping: list[str],
    acts: dict[str, list[AlarmEvent]],
) -> Incident:
    equipment = list(dict.fromkeys(e.equipment for e in group if e.equipment))
    flaps = [c for c in flapping if any(e.condition == c for e in group)]
    every = [a for e in group for a in acts[e.condition]]
    # A flapping condition keeps its first activation as the key: re-raising it does not
    # make a new incident.
    key = f"{kind}:{first.equipment or first.tag}:{first.condition}:{_key_time(first)}"
    summary = (
        f"alarm flood: {len(group)} alarms, first out {first.condition}"
        if kind == "flood"
        else f"{len(group)} alarm(s) on {first.equipment or first.tag}"
    )
    if flaps:
        summary += f"; flapping: {', '.join(flaps)}"
    return Incident(
        key=key,
        kind="flood" if kind == "flood" else "alarm",
        equipment=equipment,
        tags=list(dict.fromkeys(e.tag for e in group)),
        onset=first.time,
        alarms=sorted(every, key=lambda e: e.time),
        first_out=first,
        flapping=flaps,
        unknown_sources=sorted({e.tag for e in group if e.equipment is None}),
        summary=summary,
    )
