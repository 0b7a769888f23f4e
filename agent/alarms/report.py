"""Building the alarm performance report from what was gathered (no I/O here).

Every figure names its evidence: the journal's events (A-ids for the journal, the
server's event history, the conditions retained now, the server's AlarmMetrics, the
shelve requests), and says in words how it was computed. Time no source covers is a gap:
the report lists the gaps and computes every rate over covered time only, so a history
with holes is reported as such, never as a quiet plant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from agent.alarms.metrics import (
    Episode,
    Rules,
    Span,
    Timeline,
    bad_actors,
    chattering,
    fleeting,
    gaps,
    inside,
    merge_spans,
    position_loads,
    priority_split,
    stale,
    timeline,
)
from agent.alarms.report_models import (
    AlarmReport,
    ChatterRow,
    Figure,
    GapRow,
    HiddenRow,
    PositionFigures,
    RankedAlarm,
    ReportEvidence,
    StaleRow,
)
from agent.alarms.requests import ShelveRequest
from tools.opcua.alarm_metrics import ServerAlarmMetrics
from tools.opcua.models import ConditionState


@dataclass
class ReportInputs:
    """Everything the report is computed from."""

    journal_events: list[ConditionState] = field(default_factory=list)
    journal_spans: list[Span] = field(default_factory=list)
    journal_kept: bool = False  # the site has a journal at all
    server_events: list[ConditionState] = field(default_factory=list)
    server_history: bool = False  # the server answered the event HistoryRead
    server_until: datetime | None = None  # the server's history reaches up to here (now)
    server_first: datetime | None = None  # its oldest event, when older than the window
    retained: list[ConditionState] = field(default_factory=list)
    retained_read: bool = False
    server_metrics: list[ServerAlarmMetrics] = field(default_factory=list)
    requests: list[ShelveRequest] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what could not be read


def merge_events(*sources: list[ConditionState]) -> list[ConditionState]:
    """One event list from several sources, each event once (by condition, EventId and
    time), oldest first."""
    seen: dict[tuple[str, str | None, datetime | None], ConditionState] = {}
    for events in sources:
        for e in events:
            seen.setdefault((e.condition_id, e.event_id, e.time), e)
    return sorted(seen.values(), key=lambda e: (e.time or datetime.min, e.name))


def assess(rate: float | None, rules: Rules) -> str | None:
    """A rate per 10 minutes against the ISA-18.2 marks."""
    if rate is None:
        return None
    if rate <= rules.acceptable_rate:
        return "very likely acceptable"
    if rate <= rules.manageable_rate:
        return "manageable"
    return "over the maximum manageable"


def _hours(span: timedelta) -> float:
    return round(span.total_seconds() / 3600.0, 2)


class _Book:
    def __init__(self) -> None:
        self.items: list[ReportEvidence] = []

    def add(self, source: str, text: str, **data: object) -> str:
        ident = f"A{len(self.items) + 1}"
        self.items.append(ReportEvidence(id=ident, source=source,
                                         text=text, data=data))
        return ident


def _coverage(inputs: ReportInputs, since: datetime, until: datetime) -> list[Span]:
    spans = [(max(a, since), min(b, until)) for a, b in inputs.journal_spans]
    if inputs.server_history and (inputs.server_events or inputs.server_first):
        first = inputs.server_first or min(
            e.time for e in inputs.server_events if e.time is not None)
        end = min(until, inputs.server_until or until)
        spans.append((max(since, first), end))
    return merge_spans(spans)


def _hidden(episodes: list[Episode], until: datetime,
            requests: list[ShelveRequest]) -> list[HiddenRow]:
    rows = []
    for ep in episodes:
        req = next((r for r in requests if r.condition_id == ep.condition_id
                    and r.state == "executed" and r.kind != "unshelve"
                    and r.executed_at is not None
                    and abs((r.executed_at - ep.start).total_seconds()) <= 120), None)
        rows.append(HiddenRow(
            condition=ep.name, kind=ep.kind or "suppressed", start=ep.start, end=ep.end,
            minutes=round(ep.duration(until).total_seconds() / 60.0, 1),
            ongoing=ep.end is None, start_at_least=ep.before_window and req is None,
            reason=req.reason if req else None, requested_by=req.requested_by if req else None,
            approved_by=req.decided_by if req else None))
    return rows


def analyse(inputs: ReportInputs, since: datetime, until: datetime) -> Timeline:
    """The activations, shelves and suppressions of [since, until] in the merged events."""
    events = merge_events(inputs.journal_events, inputs.server_events)
    return timeline([e for e in events if e.time is not None and since <= e.time <= until],
                    since)


def build_report(inputs: ReportInputs, *, since: datetime, until: datetime, rules: Rules,
                 generated: datetime) -> AlarmReport:
    """The report of [since, until]."""
    book = _Book()
    event_ids: list[str] = []
    if inputs.journal_kept:
        event_ids.append(book.add(
            "journal", f"the site's alarm journal: {len(inputs.journal_events)} condition "
            f"events, listening {sum(_hours(b - a) for a, b in inputs.journal_spans):g} h in "
            f"{len(inputs.journal_spans)} span(s)", events=len(inputs.journal_events),
            spans=len(inputs.journal_spans)))
    if inputs.server_history:
        first = min((e.time for e in inputs.server_events if e.time), default=None)
        event_ids.append(book.add(
            "server_history", f"the server's event history: {len(inputs.server_events)} "
            "condition events" + (f" from {first:%Y-%m-%d %H:%M} UTC" if first else ""),
            events=len(inputs.server_events), first=first.isoformat() if first else None))
    refresh_id = book.add("refresh", f"ConditionRefresh at {generated:%Y-%m-%d %H:%M} UTC: "
                          f"{len(inputs.retained)} condition(s) retained",
                          retained=len(inputs.retained)) if inputs.retained_read else None
    metric_ids = [book.add("alarm_metrics", f"the server's AlarmMetrics {m.name} read at "
                           f"{m.read_at:%H:%M} UTC", **m.values) for m in inputs.server_metrics]
    request_id = book.add("requests", f"{len(inputs.requests)} shelve request(s) of this "
                          "site in the window") if inputs.requests else None

    covered = _coverage(inputs, since, until)
    holes = gaps(covered, since, until)
    covered_h = sum(_hours(b - a) for a, b in covered)
    line = analyse(inputs, since, until)
    acts = [a for a in line.activations if inside(a.start, covered)]
    report = AlarmReport(since=since, until=until, generated=generated,
                         window_hours=_hours(until - since), covered_hours=round(covered_h, 2),
                         gaps=[GapRow(start=a, end=b, hours=_hours(b - a)) for a, b in holes],
                         activations=len(acts))
    cites = event_ids or []
    coverage_text = (f"{covered_h:g} of {report.window_hours:g} h covered"
                     + (f"; {len(holes)} gap(s) of {sum(g.hours for g in report.gaps):g} h "
                        "left out" if holes else ""))
    report.figures.append(Figure(
        key="coverage", label="History covering the window", value=round(covered_h, 2),
        unit="h", evidence=cites, assessment="complete" if not holes else "has gaps",
        basis=coverage_text))
    report.figures.append(Figure(
        key="activations", label="Alarm activations", value=len(acts), evidence=cites,
        basis="conditions going active in covered time (acknowledgements, comments and "
        "shelving are events but not activations)"))

    for load in position_loads(acts, covered, since, until, rules):
        verdict = assess(load.average_per_10min, rules)
        report.positions.append(PositionFigures(
            position=load.position, activations=load.activations,
            average_per_10min=None if load.average_per_10min is None
            else round(load.average_per_10min, 3),
            max_per_10min=load.max_per_10min, intervals=load.intervals,
            intervals_over_manageable=load.intervals_over_manageable,
            flood_intervals=load.flood_intervals,
            flood_percent=None if load.flood_percent is None else round(load.flood_percent, 2),
            assessment=verdict))
        report.figures.append(Figure(
            key=f"rate:{load.position}", label=f"Alarm rate, position {load.position}",
            value=None if load.average_per_10min is None else round(load.average_per_10min, 3),
            unit="per 10 min", assessment=verdict, evidence=cites,
            basis=f"{load.activations} activations in {load.covered_minutes:.1f} covered "
            f"minutes (at least 10 needed for a rate); ISA-18.2: about "
            f"{rules.acceptable_rate:g} very likely acceptable, {rules.manageable_rate:g} "
            "maximum manageable"))
        report.figures.append(Figure(
            key=f"max_rate:{load.position}", label=f"Most in 10 min, position {load.position}",
            value=load.max_per_10min, unit="alarms", evidence=cites,
            basis=f"over {load.intervals} whole 10-minute intervals of covered time"))
        report.figures.append(Figure(
            key=f"flood:{load.position}", label=f"Time in flood, position {load.position}",
            value=None if load.flood_percent is None else round(load.flood_percent, 2),
            unit="%", evidence=cites,
            basis=f"{load.flood_intervals} of {load.intervals} 10-minute intervals with more "
            f"than {rules.flood_count} alarms"))

    chat = chattering(acts, rules)
    report.chattering = [ChatterRow(condition=c.name, activations=c.activations,
                                    bursts=c.bursts, most_in_window=c.most_in_window)
                         for c in chat]
    chat_acts = sum(c.activations for c in chat)
    report.figures.append(Figure(
        key="chattering", label="Chattering alarms", value=len(chat), evidence=cites,
        basis=f"{rules.chatter_count} or more activations within "
        f"{rules.chatter_window.total_seconds():g} s; they made {chat_acts} of "
        f"{len(acts)} activations"))
    report.fleeting = fleeting(acts, rules)
    report.figures.append(Figure(
        key="fleeting", label="Fleeting activations", value=sum(report.fleeting.values()),
        evidence=cites, basis=f"back to normal within {rules.fleeting.total_seconds():g} s, "
        f"on {len(report.fleeting)} alarm(s)"))

    old = stale(line, inputs.retained, until, rules)
    report.stale = [StaleRow(condition=n, active_since=t, hours=_hours(until - t))
                    for n, t in old.items()]
    report.figures.append(Figure(
        key="stale", label="Stale alarms", value=len(old),
        evidence=[*cites, *([refresh_id] if refresh_id else [])],
        basis=f"active for more than {rules.stale.total_seconds() / 3600:g} h at "
        f"{until:%Y-%m-%d %H:%M} UTC"))

    ranked = bad_actors(acts, rules.top_n)
    report.bad_actors = [RankedAlarm(
        condition=n, activations=c, share=round(s, 4),
        priority=rules.priorities.priority_of(next(a.severity for a in acts if a.name == n)))
        for n, c, s in ranked]
    report.top_share = round(sum(s for _, _, s in ranked), 4) if ranked else None
    report.figures.append(Figure(
        key="top10_share", label=f"Share of the top {rules.top_n} bad actors",
        value=None if report.top_share is None else round(report.top_share * 100, 1),
        unit="%", evidence=cites,
        basis=f"{sum(c for _, c, _ in ranked)} of {len(acts)} activations from "
        f"{len(ranked)} alarm(s)"))

    report.priority_split = priority_split(acts, rules.priorities)
    split_text = ", ".join(f"{k} {v}" + (f" ({100 * v / len(acts):.0f}%)" if acts else "")
                           for k, v in report.priority_split.items())
    report.figures.append(Figure(
        key="priority_split", label="Activations by priority", value=split_text,
        evidence=cites, basis="priority from OPC UA severity by the site's policy "
        "(alarms.priorities); ISA-18.2 suggests most alarms at the lowest priority and few "
        "at the highest"))

    report.shelved = _hidden(line.shelves, until, inputs.requests)
    report.suppressed = _hidden(line.suppressions, until, [])
    shelved_now = {s.name for s in inputs.retained if s.shelved}
    report.figures.append(Figure(
        key="shelved", label="Shelved alarms", value=len(report.shelved),
        evidence=[*cites, *([refresh_id] if refresh_id else []),
                  *([request_id] if request_id else [])],
        basis=f"{len(report.shelved)} shelve(s) in the window, "
        f"{sum(1 for r in report.shelved if r.ongoing)} still on; shelved now by the "
        f"server: {len(shelved_now)}"))
    report.figures.append(Figure(
        key="suppressed", label="Suppressed alarms", value=len(report.suppressed),
        evidence=[*cites, *([refresh_id] if refresh_id else [])],
        basis="suppressions the server reported (plantagent never suppresses)"))
    report.server_metrics = list(inputs.server_metrics)
    for m, ident in zip(inputs.server_metrics, metric_ids, strict=True):
        report.figures.append(Figure(
            key=f"server_metrics:{m.name}", label=f"Server AlarmMetrics ({m.name})",
            value=", ".join(f"{k} {v}" for k, v in m.values.items()), evidence=[ident],
            basis="as the server counts them since its StartTime"
            + (f"; rates per {m.rate_minutes:g} min" if m.rate_minutes else "")))

    report.evidence = book.items
    if holes:
        report.notes.append(
            f"the history has {len(holes)} gap(s) totalling "
            f"{sum(g.hours for g in report.gaps):g} h: figures cover "
            f"{covered_h:g} of {report.window_hours:g} h only")
    if inputs.server_history and (inputs.server_events or inputs.server_first):
        first = inputs.server_first or min(
            e.time for e in inputs.server_events if e.time is not None)
        report.notes.append(f"the server's event history is taken as complete from its "
                            f"oldest event on ({first:%Y-%m-%d %H:%M} UTC)")
    if not inputs.journal_kept:
        report.notes.append("this site keeps no alarm journal yet; only the server's "
                            "history was used")
    report.notes += inputs.problems
    return report
