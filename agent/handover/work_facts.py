"""Facts of a shift from the site's stores: approval requests (made, decided, executed,
still waiting) and triage reports (written in the window, still open)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from agent.approvals.models import ApprovalRequest
from agent.handover.evidence import MAX_PER_KIND, Fact, clock_time
from agent.triage.models import TriageReport

#: Requests in these states still need a person.
OPEN_STATES = frozenset({"pending", "approved"})


def _within(moment: datetime | None, since: datetime, until: datetime) -> bool:
    return moment is not None and since <= moment <= until


def _request_payload(r: ApprovalRequest) -> dict[str, Any]:
    return {
        "request": r.id, "tag": r.target.tag, "value": r.value, "unit": r.target.unit,
        "state": r.state, "requested_by": r.requested_by,
        "requested_at": clock_time(r.created_at), "decided_by": r.decided_by,
        "decided_at": clock_time(r.decided_at) if r.decided_at else None,
        "executed_at": clock_time(r.executed_at) if r.executed_at else None,
        "old_value": r.old_value, "read_back": r.read_back,
    }


def _target(r: ApprovalRequest) -> str:
    unit = f" {r.target.unit}" if r.target.unit else ""
    return f"set {r.target.tag} to {r.value:g}{unit}"


def approval_facts(
    requests: Sequence[ApprovalRequest], since: datetime, until: datetime
) -> tuple[list[Fact], list[Fact]]:
    """(requests made or decided in the window and now closed, requests still open)."""
    closed: list[Fact] = []
    still_open: list[Fact] = []
    for r in requests:
        touched = any(_within(t, since, until)
                      for t in (r.created_at, r.decided_at, r.executed_at))
        if r.state in OPEN_STATES:
            waits = ("execution" if r.state == "approved"
                     else f"approval by {' or '.join(r.approver_roles)}")
            text = (f"{r.id} waits for {waits}: {_target(r)}, requested by {r.requested_by} "
                    f"at {clock_time(r.created_at)}, expires {clock_time(r.expires_at)}")
            payload = {**_request_payload(r), "expires_at": clock_time(r.expires_at)}
            still_open.append(Fact("pending_approval", text, payload,
                                   brief=f"request to {_target(r)} waits for {waits}"))
            continue
        if not touched:
            continue
        text = f"{r.id}: {_target(r)}, requested by {r.requested_by}"
        brief = f"request to {_target(r)} {r.state}"
        if r.state == "executed" and r.old_value is not None:
            brief = f"{r.target.tag} changed from {r.old_value:g} to {r.value:g} (approved)"
        if r.state == "executed":
            text += f", approved by {r.decided_by}, executed"
            if r.executed_at is not None:
                text += f" at {clock_time(r.executed_at)}"
            if r.old_value is not None and r.read_back is not None:
                text += f" (was {r.old_value:g}, reads back {r.read_back:g})"
        elif r.state == "denied":
            text += f", denied by {r.decided_by}"
            if r.decision_note:
                text += f" ({r.decision_note[:80]})"
        elif r.state == "failed":
            text += f", approved by {r.decided_by}, write failed: {(r.failure or '')[:100]}"
        else:
            text += f", {r.state}"
        closed.append(Fact("approval", text, _request_payload(r), brief=brief))
    return closed[:MAX_PER_KIND], still_open[:MAX_PER_KIND]


def report_facts(
    reports: Sequence[TriageReport], since: datetime, until: datetime,
    active_conditions: set[str],
) -> tuple[list[Fact], list[Fact]]:
    """(triage reports written in the window, those whose alarms are still active)."""
    written: list[Fact] = []
    still_open: list[Fact] = []
    for r in sorted(reports, key=lambda r: r.created):
        if not _within(r.created, since, until):
            continue
        top = r.candidates[0] if r.candidates else None
        equipment = ", ".join(r.incident.equipment) or "unknown equipment"
        if r.status == "diagnosed" and top is not None:
            finding = (f"most likely {top.cause} on {top.tag or top.equipment} "
                       f"(confidence {top.confidence:.2f})")
        else:
            finding = "insufficient evidence for a diagnosis"
        text = f"triage report {r.id} at {clock_time(r.created)} on {equipment}: {finding}"
        conditions = [a.condition for a in r.incident.alarms]
        payload: dict[str, Any] = {
            "report": r.id, "at": clock_time(r.created), "status": r.status,
            "equipment": r.incident.equipment, "incident": r.incident.summary,
            "cause": top.cause if top else None, "on": (top.tag or top.equipment) if top else None,
            "confidence": round(top.confidence, 2) if top else None,
            "conditions": conditions[:6],
        }
        written.append(Fact("triage_report", text, payload,
                            brief=f"triage on {equipment}: {finding}"))
        active = sorted(set(conditions) & active_conditions)
        if active:
            still_open.append(Fact(
                "open_incident",
                f"the incident of {r.id} ({equipment}) is still alarming: {len(active)} "
                "of its conditions are active",
                {"report": r.id, "equipment": r.incident.equipment, "active": active},
                brief=f"incident on {equipment} still alarming",
            ))
    return written[-MAX_PER_KIND:], still_open[-MAX_PER_KIND:]
