"""The watcher: what needs triage now, from alarms, events and trend rules.

Alarms come from ConditionRefresh (what is active now) and from the event log (recent
raise/clear transitions, which show flapping). Rules catch what alarms do not: a value
heading for its limit within the horizon (slope of the recent history extrapolated) and a
frozen transmitter. Everything is grouped into incidents (see grouping.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from agent.errors import OpcUaError
from agent.settings import OpcUaSettings, TriageSettings
from agent.triage.features import TagFeatures, analyse, natural_shift, time_to_limit
from agent.triage.gather import gather
from agent.triage.grouping import GroupingRules, group_alarms
from agent.triage.models import AlarmEvent, Incident
from agent.triage.shelved import worsened_shelved
from agent.twin.semantics.infer import cached
from tools.opcua.alarms import EventLog, active_alarms
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.event_fields import state_time
from tools.opcua.models import AlarmInfo, TagInfo


@dataclass(frozen=True)
class WatchRules:
    """Rule settings of the watcher."""

    grouping: GroupingRules = field(default_factory=GroupingRules)
    trend_horizon: timedelta = timedelta(minutes=30)
    lookback: timedelta = timedelta(minutes=60)
    trends: bool = True
    event_window: timedelta = timedelta(minutes=30)
    #: A tag this far from its baseline (share of its normal range) is worth a look even
    #: when it heads for no limit: drifting transmitters show this way.
    deviation: float = 0.1
    #: A deviation must also be this many times the largest shift the same rule saw in
    #: the ``wander_lookback`` before the window (the window slid over it every
    #: ``wander_step``): a healthy tag's slow noise is no incident.
    deviation_margin: float = 2.0
    wander_lookback: timedelta = timedelta(hours=24)
    wander_step: timedelta = timedelta(minutes=5)
    #: An incident younger than this with too little evidence is looked at again on the
    #: next pass (the history has not caught up with a fast fault yet) before reporting.
    settle: timedelta = timedelta(minutes=2)
    #: An incident reported as "insufficient evidence" is triaged again after this long
    #: (doubled after every look that changed nothing, at most the lookback), or at once
    #: when new alarms join it.
    retriage_after: timedelta = timedelta(minutes=5)

    @classmethod
    def from_settings(cls, triage: TriageSettings) -> WatchRules:
        """The rules a site configured (``[triage]`` in plantagent.toml)."""
        return cls(
            grouping=GroupingRules(flood_count=triage.flood_count,
                                   flood_window=timedelta(seconds=triage.flood_window_s),
                                   flap_count=triage.flap_count),
            trend_horizon=timedelta(seconds=triage.trend_horizon_s),
            lookback=timedelta(seconds=triage.lookback_s), trends=triage.trends,
            event_window=timedelta(seconds=triage.event_window_s),
            deviation=triage.deviation, deviation_margin=triage.deviation_margin,
            settle=timedelta(seconds=triage.settle_s),
            retriage_after=timedelta(seconds=triage.retriage_s),
        )


def condition_name(alarm: AlarmInfo) -> str:
    """"<tag>.<High|Low>" from the ConditionId (``...;s=<name>``), or source + type."""
    cid = alarm.condition_id or ""
    if ";s=" in cid:
        return cid.split(";s=", 1)[1]
    return f"{alarm.source}.{alarm.event_type or 'event'}"


def to_event(alarm: AlarmInfo, catalog: Catalog, now: datetime) -> AlarmEvent:
    """Our alarm record; the equipment is None when the catalog does not know the source."""
    tag = alarm.source
    known = tag in set(catalog.tag_names())
    equipment = tag.split(".", 1)[0] if known else None
    if not known and tag in set(catalog.equipment_names()):
        equipment = tag
    return AlarmEvent(
        # When it was raised (or cleared): an acknowledgement is an event too, and must
        # not look like one more activation.
        condition=condition_name(alarm), tag=tag, equipment=equipment,
        time=state_time(alarm) or now,
        active=alarm.active is not False and alarm.retain is not False,
        severity=alarm.severity, message=alarm.message,
    )


class Watcher:
    """Scans the server for incidents; holds no state besides the event log."""

    def __init__(self, conn: OpcUaConnection, catalog: Catalog, opcua: OpcUaSettings, *,
                 clock: Callable[[], datetime], rules: WatchRules | None = None,
                 events: EventLog | None = None) -> None:
        self.conn = conn
        self.catalog = catalog
        self.opcua = opcua
        self.clock = clock
        self.rules = rules or WatchRules()
        self.events = events
        #: Shelved alarms active at the last scan (raised again only when they worsen).
        self.shelved: list[AlarmInfo] = []

    async def alarms(self) -> list[AlarmEvent]:
        """Active conditions plus the recent transitions of the event log; shelved ones
        are kept aside in ``self.shelved`` (a person chose not to see them)."""
        now = self.clock()
        infos = await active_alarms(self.conn, self.catalog, settle_s=2.0)
        self.shelved = [a for a in infos if a.shelved]
        if self.events is not None:
            infos += self.events.recent(now - self.rules.event_window, 1000)
        return [to_event(a, self.catalog, now) for a in infos if a.source and not a.shelved]

    def owner(self, tag: str) -> str:
        """The equipment a tag belongs to as the semantics group it (a flat gateway
        folder holds many), else its catalog equipment."""
        sem = cached(self.catalog).tags.get(tag)
        if sem is not None and sem.equipment is not None:
            return sem.equipment
        return self.catalog.tags[tag].equipment if tag in self.catalog.tags else tag

    async def rule_hits(self, alarmed: set[str]) -> list[Incident]:
        """Trend-to-limit and frozen-tag incidents on tags without an alarm
        (``alarmed``: equipment as :meth:`owner` names it)."""
        now = self.clock()
        semantics = cached(self.catalog).tags
        tags = [self.catalog.tag(n) for n in self.catalog.tag_names()]
        tags = [t for t in tags if t.eu_low is not None and self.owner(t.name) not in alarmed]
        got = await gather(self.conn, tags, start=now - self.rules.lookback, end=now,
                           settings=self.opcua, clock=self.clock)
        if got.server_lost:
            raise OpcUaError("the server went away during the trend scan")
        out: list[Incident] = []
        day = now.strftime("%Y%m%d")
        for t in tags:
            f = analyse(t.name, got.series.get(t.name, []), t.eu_low, t.eu_high, None)
            if f is None:
                continue
            sem = semantics.get(t.name)
            # A setpoint or an output is written, not measured: constant is its nature.
            if f.direction == "frozen" and sem is not None and sem.function in (
                    "setpoint", "output"):
                continue
            if f.direction == "frozen":
                out.append(Incident(key=f"frozen:{t.name}:{day}", kind="frozen",
                                    equipment=[t.equipment], tags=[t.name], onset=now,
                                    summary=f"{t.name} frozen (no variation)"))
                continue
            hit = time_to_limit(f, t.eu_low, t.eu_high)
            heading = (hit is not None and f.direction in ("up", "down")
                       and (hit[1] == "High") == (f.direction == "up"))
            if hit is not None and heading and hit[0] <= self.rules.trend_horizon.total_seconds():
                out.append(Incident(
                    key=f"trend:{t.name}.{hit[1]}:{day}", kind="trend", equipment=[t.equipment],
                    tags=[t.name], onset=f.left_band_at or now,
                    summary=f"{t.name} heading for its {hit[1]} limit in about "
                    f"{hit[0] / 60:.0f} min",
                ))
            elif (f.direction in ("up", "down") and abs(f.shift_span) >= self.rules.deviation
                  and await self.beyond_wander(t, f)):
                out.append(Incident(
                    key=f"deviation:{t.name}:{day}", kind="deviation", equipment=[t.equipment],
                    tags=[t.name], onset=f.left_band_at or now,
                    summary=f"{t.name} moved {f.shift_span * 100:+.0f}% of its normal range "
                    "from its baseline",
                ))
        # One rule incident per equipment: the first tag found stands for it.
        seen: dict[str, Incident] = {}
        for inc in out:
            seen.setdefault(self.owner(inc.tags[0]), inc)
        return list(seen.values())

    async def beyond_wander(self, tag: TagInfo, features: TagFeatures) -> bool:
        """True when the tag's shift is ``deviation_margin`` times the largest shift the
        rule saw in the history before the window (read only for a tag that deviates:
        rare); a tag without that much history is given the benefit of the doubt."""
        now = self.clock()
        end = now - self.rules.lookback
        got = await gather(self.conn, [tag], start=end - self.rules.wander_lookback, end=end,
                           settings=self.opcua, clock=self.clock)
        if got.server_lost:
            raise OpcUaError("the server went away during the trend scan")
        natural = natural_shift(got.series.get(tag.name, []), self.rules.lookback,
                                self.rules.wander_step)
        return natural is None or abs(features.shift) >= self.rules.deviation_margin * natural

    async def scan(self) -> list[Incident]:
        """Incidents now: grouped alarms first, then rule hits on quiet equipment."""
        events = await self.alarms()
        incidents = group_alarms(events, self.rules.grouping)
        incidents += await worsened_shelved(self.conn, self.catalog, self.shelved, self.opcua,
                                            threshold=self.rules.deviation, now=self.clock())
        if self.rules.trends:
            alarmed = {self.owner(t) for i in incidents for t in i.tags}
            incidents += await self.rule_hits(alarmed)
        return incidents
