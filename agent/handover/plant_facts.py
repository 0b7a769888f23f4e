"""Facts of a shift from the plant itself, over OPC UA: alarms still active, alarms raised
and cleared (when an event log was running), values outside their range now, and values
heading for a limit (the recent history's slope extrapolated, as the triage watcher does).

Server trouble never ends a handover: the caller turns an OpcUaError into a "could not
check" fact.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from agent.handover.evidence import MAX_PER_KIND, Fact, clock_time, plain
from agent.settings import OpcUaSettings
from agent.triage.features import analyse, time_to_limit
from agent.triage.gather import gather
from agent.triage.watcher import condition_name
from tools.opcua.alarms import EventLog, active_alarms
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.event_fields import state_time
from tools.opcua.models import AlarmInfo

# "<tag> <value> <unit> above high limit <limit> <unit>" (the demo plant's alarm message).
_MESSAGE = re.compile(r"^\S+ (?P<value>\S+(?: \S+)?) (?:above high|below low) limit "
                      r"(?P<limit>.+)$")


async def active_alarm_facts(
    conn: OpcUaConnection, catalog: Catalog
) -> tuple[list[Fact], set[str]]:
    """(one fact per equipment with conditions active now, most severe first; the names
    of all active conditions). One fact per equipment, not per condition: a jam raises
    eight alarms, and the next shift needs to know which equipment is alarming."""
    alarms = await active_alarms(conn, catalog, settle_s=2.0)
    by_equipment: dict[str, list[AlarmInfo]] = {}
    for alarm in alarms:  # most severe first, so each group is too
        owner = alarm.source.split(".", 1)[0] if alarm.source else "unknown"
        by_equipment.setdefault(owner, []).append(alarm)
    facts = []
    for owner, group in list(by_equipment.items())[:MAX_PER_KIND]:
        times = sorted(t for a in group if (t := state_time(a)) is not None)
        since = f" since {clock_time(times[0])}" if times else ""
        parts = [f"{condition_name(a)} ({_alarm_value(a)})" for a in group[:3]]
        more = f" and {len(group) - 3} more" if len(group) > 3 else ""
        facts.append(Fact(
            "active_alarm",
            f"{len(group)} alarm(s) active on {owner}{since}: {', '.join(parts)}{more}",
            {"equipment": owner, "active": len(group), "severity": group[0].severity,
             "since": clock_time(times[0]) if times else None,
             "conditions": [condition_name(a) for a in group],
             "messages": [a.message for a in group[:5]],
             # The "and N more" of the text, so the grounding check finds its number.
             "not_listed": max(0, len(group) - 3)},
            brief=f"{len(group)} alarm(s) active on {owner}{since}",
        ))
    return facts, {condition_name(a) for a in alarms}


def _alarm_value(alarm: AlarmInfo) -> str:
    """'6.791 kN, limit 4.5 kN' from the server's message (the demo plant's form), else
    the message itself, shortened."""
    match = _MESSAGE.match(alarm.message)
    if match is None:
        return alarm.message[:60]
    return f"{match.group('value')}, limit {match.group('limit')}"


def event_facts(log: EventLog | None, since: datetime, until: datetime) -> list[Fact]:
    """Alarms raised and cleared in the window, one fact per condition; none when no
    event log was running (a one-shot command has not been listening)."""
    if log is None:
        return []
    raised: dict[str, list[AlarmInfo]] = {}
    cleared: dict[str, int] = {}
    seen: set[tuple[str, bool, object]] = set()
    for event in reversed(log.recent(since, 5000)):  # oldest first
        if event.time is None or event.time > until or not event.source:
            continue
        name = condition_name(event)
        is_active = not (event.active is False or event.retain is False)
        # One raise (or clear) however many events follow it (acknowledged, commented,
        # shelved): keyed by when the alarm changed, not by when the event came.
        key = (name, is_active, state_time(event))
        if key in seen:
            continue
        seen.add(key)
        if not is_active:
            cleared[name] = cleared.get(name, 0) + 1
        else:
            raised.setdefault(name, []).append(event)
    facts = []
    for name in list(dict.fromkeys([*raised, *cleared]))[:MAX_PER_KIND]:
        times = [e.time for e in raised.get(name, []) if e.time is not None]
        text = f"{name} raised {len(times)} time(s)"
        if times:
            text += f", first at {clock_time(times[0])}"
        text += f", cleared {cleared.get(name, 0)} time(s)"
        facts.append(Fact("alarm_event", text, {
            "condition": name, "raised": len(times), "cleared": cleared.get(name, 0),
            "first_raised": clock_time(times[0]) if times else None,
        }))
    return facts


def _unit(unit: str | None) -> str:
    return f" {unit}" if unit else ""


async def limit_facts(
    conn: OpcUaConnection,
    catalog: Catalog,
    settings: OpcUaSettings,
    *,
    now: datetime,
    lookback: timedelta,
    horizon: timedelta,
    alarmed: set[str],
) -> tuple[list[Fact], list[Fact], list[Fact]]:
    """(values outside their normal range now, values heading for a limit within
    ``horizon``, what could not be read). Tags in ``alarmed`` (an active alarm says it
    already) are left out."""
    tags = [catalog.tag(n) for n in catalog.tag_names()]
    tags = [t for t in tags if (t.eu_low is not None or t.eu_high is not None)
            and t.name not in alarmed]
    got = await gather(conn, tags, start=now - lookback, end=now, settings=settings,
                       clock=lambda: now)
    outside = []
    for r in got.readings:
        if r.out_of_limits is None or not isinstance(r.value, int | float):
            continue
        limit = r.high if r.out_of_limits == "high" else r.low
        side = "above its high" if r.out_of_limits == "high" else "below its low"
        outside.append(Fact("out_of_limits", (
            f"{r.tag} is {plain(r.value, 4)}{_unit(r.unit)}, {side} limit "
            f"{limit:g}{_unit(r.unit)}"),
            {"tag": r.tag, "value": round(float(r.value), 4), "unit": r.unit,
             "side": r.out_of_limits, "limit": limit},
        ))
    outside_tags = {f.payload["tag"] for f in outside}
    heading: list[tuple[float, Fact]] = []
    for t in tags:
        if t.name in outside_tags:
            continue
        features = analyse(t.name, got.series.get(t.name, []), t.eu_low, t.eu_high, None)
        if features is None or features.direction not in ("up", "down"):
            continue
        hit = time_to_limit(features, t.eu_low, t.eu_high)
        if hit is None or (hit[1] == "High") != (features.direction == "up"):
            continue
        seconds, side = hit
        if seconds > horizon.total_seconds():
            continue
        limit = t.eu_high if side == "High" else t.eu_low
        minutes = max(1, round(seconds / 60))
        per_hour = features.slope_per_s * 3600
        verb = "rising" if per_hour > 0 else "falling"
        text = (f"{t.name} {verb} {plain(abs(per_hour), 3)}{_unit(t.unit)} per hour, now "
                f"{plain(features.last, 4)}{_unit(t.unit)}; reaches its {side.lower()} limit "
                f"{limit:g}{_unit(t.unit)} in about {minutes} min")
        heading.append((seconds, Fact("trend", text, {
            "tag": t.name, "now": round(features.last, 4), "unit": t.unit,
            "direction": verb, "per_hour": round(abs(per_hour), 4), "limit": limit,
            "side": side.lower(), "minutes": minutes,
        }, brief=(f"{t.name} {verb}, now {plain(features.last, 4)}{_unit(t.unit)}, reaches its "
                  f"{side.lower()} limit in about {minutes} min"))))
    heading.sort(key=lambda pair: pair[0])
    gaps = [Fact("gap", f"could not check: {gap}", {"what": gap}) for gap in got.gaps[:3]]
    return outside[:MAX_PER_KIND], [f for _, f in heading[:MAX_PER_KIND]], gaps


def catalog_units(catalog: Catalog) -> list[str]:
    """The units the plant's tags use (the grounding check recognises them)."""
    return sorted({u for n in catalog.tag_names() if (u := catalog.tag(n).unit)})

