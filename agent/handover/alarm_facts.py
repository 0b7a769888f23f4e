"""The shift's alarm load (ISA-18.2 figures of agent/alarms) as one handover fact: how
many alarms were raised, the rate per operator position per 10 minutes against the marks,
the worst 10 minutes, time in flood, chattering alarms, shelves, and any gap in the alarm
history. A shift without alarms gets no such fact (its overview says so already)."""

from __future__ import annotations

from datetime import datetime

from agent.alarms.gather import gather_inputs
from agent.alarms.metrics import Rules
from agent.alarms.report import build_report
from agent.handover.evidence import Fact, plain
from agent.handover.sources import ShiftSources


async def alarm_performance_facts(sources: ShiftSources, *, since: datetime,
                                  until: datetime) -> list[Fact]:
    """At most one fact: the shift's alarm figures (none without the site's alarm
    journal)."""
    if sources.alarm_store is None or sources.alarms_policy is None:
        return []
    inputs = await gather_inputs(sources.connection, sources.catalog, sources.alarm_store,
                                 since=since, until=until, now=until)
    rules = Rules.from_settings(sources.settings.alarms, sources.alarms_policy)
    report = build_report(inputs, since=since, until=until, rules=rules, generated=until)
    if not report.activations:
        return []
    parts = [f"{report.activations} alarm(s) raised"]
    payload: dict[str, object] = {"activations": report.activations,
                                  "covered_hours": report.covered_hours,
                                  "window_hours": report.window_hours}
    for p in report.positions:
        if p.activations and p.average_per_10min is not None:
            parts.append(f"{plain(p.average_per_10min, 2)} per 10 min at {p.position} "
                         f"({p.assessment}), at most {p.max_per_10min} in 10 min")
            payload[f"rate_{p.position}"] = round(p.average_per_10min, 2)
            payload[f"max_{p.position}"] = p.max_per_10min
            if p.flood_intervals:
                parts.append(f"{plain(p.flood_percent or 0.0, 2)}% of the time in flood")
                payload[f"flood_percent_{p.position}"] = round(p.flood_percent or 0.0, 2)
    if report.chattering:
        names = [c.condition for c in report.chattering[:3]]
        parts.append(f"chattering: {', '.join(names)}")
        payload["chattering"] = names
    if report.shelved:
        parts.append(f"{len(report.shelved)} shelve(s)")
        payload["shelves"] = len(report.shelved)
    if report.gaps:
        parts.append(f"alarm history covers {plain(report.covered_hours, 2)} of "
                     f"{plain(report.window_hours, 2)} h")
    summary = "; ".join(parts)
    return [Fact("alarm_performance", summary, payload,
                 brief=f"{report.activations} alarm(s) raised this shift")]
