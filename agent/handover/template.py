"""The deterministic handover: one line per fact, each citing it. Always available; used
with ``use_model=False``, when the model fails, for a quiet shift, and for facts the
model's lines left out."""

from __future__ import annotations

from collections.abc import Sequence

from agent.handover.models import HandoverEvidence, HandoverLine

#: How the template opens a line about each source.
_LEADS: dict[str, str] = {
    "incident": "Incident",
    "alarm_event": "Alarm",
    "alarm_performance": "Alarm load",
    "triage_report": "Triage",
    "approval": "Approval",
    "write": "Write",
    "questions": "Questions",
    "active_alarm": "Still active",
    "pending_approval": "Waiting",
    "open_incident": "Open incident",
    "out_of_limits": "Outside its range",
    "trend": "Trending",
    "gap": "Gap",
}


def template_line(item: HandoverEvidence, *, quiet: bool = False) -> HandoverLine:
    """The line stating one fact, citing it."""
    if item.source == "shift":
        p = item.payload
        text = (f"Quiet shift from {p['from']} to {p['to']} {p.get('zone', 'UTC')}: no "
                "incidents, alarms, triage reports, approvals, writes or questions, and "
                "nothing is open."
                if quiet else f"Shift {item.summary.removeprefix('shift ')}.")
    elif item.source == "gap":
        text = item.summary[0].upper() + item.summary[1:] + "."
    else:
        text = f"{_LEADS[item.source]}: {item.summary}."
    return HandoverLine(section=item.section, text=text, citations=[item.id])


def template_lines(evidence: Sequence[HandoverEvidence], *, quiet: bool) -> list[HandoverLine]:
    """A line per fact, in the order gathered."""
    return [template_line(item, quiet=quiet) for item in evidence]
