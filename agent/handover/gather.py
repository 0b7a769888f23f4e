"""Gathering the evidence of a shift, deterministically, most important first: the
overview (H1), open items, triage reports, changes, limits and trends, incidents and
alarms, questions, what could not be checked."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from agent.audit.records import AuditRecord
from agent.errors import OpcUaError
from agent.handover.alarm_facts import alarm_performance_facts
from agent.handover.audit_facts import incident_facts, question_facts, write_facts
from agent.handover.evidence import Fact, clock_time, number, zone_name
from agent.handover.models import HandoverEvidence
from agent.handover.plant_facts import active_alarm_facts, event_facts, limit_facts
from agent.handover.sources import ShiftSources
from agent.handover.work_facts import approval_facts, report_facts

#: How much recent history the trend check reads (never more than the shift).
TREND_LOOKBACK = timedelta(minutes=60)
#: A value reaching a limit within this time is worth handing over.
TREND_HORIZON = timedelta(hours=2)
#: Most audit records of one kind read for one handover.
MAX_RECORDS = 5000

Progress = Callable[[str], None]


def _records(sources: ShiftSources, kind: str, since: datetime,
             until: datetime) -> list[AuditRecord]:
    return sources.audit.search(kind=kind, since=since, until=until, limit=MAX_RECORDS)


def overview(since: datetime, until: datetime, counts: dict[str, int], *,
             all_checked: bool = True) -> Fact:
    """H1: the window and what it held. Only what happened is named (the prompt stays
    short); a shift with nothing says so outright, so nobody has to infer "nothing
    happened" from an empty list, unless something could not be checked
    (``all_checked``). The payload keeps every count, zeros included."""
    hours = round((until - since).total_seconds() / 3600, 1)
    happened = [f"{counts[key]} {label}" for key, label in _HAPPENED if counts[key]]
    still = [f"{counts[key]} {label}" for key, label in _OPEN if counts[key]]
    zone = zone_name(until)
    text = f"shift {clock_time(since)} to {clock_time(until)} {zone} ({hours:g} h): "
    text += ", ".join(happened) if happened else "nothing happened"
    if still:
        text += "; open now: " + ", ".join(still)
    else:
        text += "; nothing is open" if all_checked else "; what is open could not all be checked"
    payload = {"from": clock_time(since), "to": clock_time(until), "zone": zone,
               "hours": hours, **counts}
    return Fact("shift", text, payload)


_HAPPENED = (("incidents", "incident(s)"), ("alarm_events", "alarm condition(s) raised or cleared"),
             ("triage_reports", "triage report(s)"), ("approvals", "approval request(s) closed"),
             ("writes", "other write(s)"), ("questions", "question(s)"))
_OPEN = (("active_alarms", "active alarm(s)"), ("pending_approvals", "request(s) waiting"),
         ("out_of_limits", "value(s) outside their range"),
         ("trends", "value(s) heading for a limit"))


def quiet(evidence: list[HandoverEvidence]) -> bool:
    """True when the shift held nothing but its overview."""
    return all(e.source == "shift" for e in evidence)


async def gather_shift(
    sources: ShiftSources, *, since: datetime, until: datetime, progress: Progress,
) -> list[HandoverEvidence]:
    """Every fact of the shift, numbered H1, H2, ..."""
    catalog, reports = sources.catalog, sources.reports
    progress("reading the audit log")
    incidents = await asyncio.to_thread(_records, sources, "alarm", since, until)
    results = await asyncio.to_thread(_records, sources, "tool_result", since, until)
    errors = await asyncio.to_thread(_records, sources, "error", since, until)
    questions = await asyncio.to_thread(_records, sources, "question", since, until)
    answers = await asyncio.to_thread(_records, sources, "answer", since, until)
    progress("reading approvals and triage reports")
    requests = await asyncio.to_thread(sources.approvals.requests)
    closed, waiting = approval_facts(requests, since, until)
    covered = {str(f.payload["request"]) for f in closed}
    stored = await asyncio.to_thread(reports.list, 500) if reports is not None else []

    gaps: list[Fact] = []
    progress("reading active alarms")
    active: list[Fact] = []
    conditions: set[str] = set()
    try:
        active, conditions = await active_alarm_facts(sources.connection, catalog)
    except OpcUaError as exc:
        gaps.append(Fact("gap", f"could not check the active alarms: {exc.message}",
                         {"what": "active alarms", "detail": exc.message}))
    written, open_incidents = report_facts(stored, since, until, conditions)
    events = event_facts(sources.connection.event_log, since, until)
    progress(f"checking {len(catalog)} tags against their limits and trends")
    outside: list[Fact] = []
    trends: list[Fact] = []
    try:
        outside, trends, read_gaps = await limit_facts(
            sources.connection, catalog, sources.settings.opcua,
            now=until, lookback=min(TREND_LOOKBACK, until - since), horizon=TREND_HORIZON,
            alarmed={c.rsplit(".", 1)[0] for c in conditions},
        )
        gaps += read_gaps
    except OpcUaError as exc:
        gaps.append(Fact("gap", f"could not check limits and trends: {exc.message}",
                         {"what": "limits and trends", "detail": exc.message}))

    progress("measuring the shift's alarm load")
    load: list[Fact] = []
    try:
        load = await alarm_performance_facts(sources, since=since, until=until)
    except OpcUaError as exc:
        gaps.append(Fact("gap", f"could not measure the alarm load: {exc.message}",
                         {"what": "alarm load", "detail": exc.message}))
    incident = incident_facts(incidents)
    writes = write_facts([*results, *errors], covered)
    asked = question_facts(questions, answers, catalog.equipment_names())
    counts = {
        "incidents": len(incident), "alarm_events": len(events),
        "triage_reports": len(written), "approvals": len(closed), "writes": len(writes),
        "questions": int(asked[0].payload["questions"]) if asked else 0,
        "active_alarms": len(conditions), "pending_approvals": len(waiting),
        "out_of_limits": len(outside), "trends": len(trends),
    }
    # Most important first: the model's prompt holds what fits, in this order.
    head = overview(since, until, counts, all_checked=not gaps)
    facts = [head, *active, *waiting, *open_incidents, *written, *closed, *writes, *outside,
             *trends, *load, *incident, *events, *asked, *gaps]
    return number(facts)
