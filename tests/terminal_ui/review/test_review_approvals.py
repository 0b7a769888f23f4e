"""The approvals pane against a real service: a proposal made by a question, refused to the
shift lead by the policy, approved by an engineer and written to the plant; another denied
with a note. Store state and audit records are checked, not only the screen."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import DataTable, Markdown

from agent.approvals.models import ApprovalRequest
from agent.approvals.refusals import ApprovalRefused
from agent.llm.scripted import ScriptedModel
from agent.service import AgentService
from agent.service.review import ReviewService
from terminal_ui.panes.approval_detail import detail_markdown
from terminal_ui.panes.approvals import ApprovalsPane
from terminal_ui.panes.review_dialogs import ConfirmScreen, NoteScreen

from .review_helpers import ENGINEER, SHIFT_LEAD, Host, PaneApp, as_person, record_twin, wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

SETPOINT = "HX-101.OutletTemperatureSetpoint"


async def _propose(service: AgentService, model: ScriptedModel, value: float) -> ApprovalRequest:
    """Ask the agent, as the shift lead, for a change: the system reads the setpoint, the
    policy allows it, and a pending request is made (the model is not asked)."""
    asked = len(model.requests)
    answer = await service.ask(f"Set the HX-101 outlet temperature setpoint to {value:g}",
                               on_event=lambda _e: None)
    assert len(model.requests) == asked and answer.written_by == "system"
    pending = [r for r in service.sources.approvals.requests({"pending"})
               if r.value == value]
    assert len(pending) == 1, "the question made no proposal"
    assert pending[0].id in answer.answer
    return pending[0]


def _select(pane: ApprovalsPane, request_id: str) -> None:
    """Put the cursor on a request."""
    pane.query_one(DataTable).move_cursor(row=[r.id for r in pane.requests].index(request_id))


def _review(service: AgentService) -> ReviewService:
    assert service.review is not None
    return service.review


def _approval_events(service: AgentService, request_id: str) -> list[dict[str, Any]]:
    records = service.audit.search(kind="approval", text=request_id)
    return [{"event": r.payload["event"], "actor": r.actor, **r.payload} for r in records]


async def test_approve_refused_to_shift_lead_then_engineer_approves_and_writes(
    service: AgentService, model: ScriptedModel
) -> None:
    request = await _propose(service, model, 33.0)
    assert await record_twin(_review(service), "HX-101") > 0

    # The shift lead who asked: the policy refuses, the screen says why, nothing changes.
    app = PaneApp(lambda: ApprovalsPane(service, poll_s=60.0))
    async with app.run_test(size=(100, 40)) as pilot:
        pane = app.query_one(ApprovalsPane)
        await wait_for(pilot, lambda: request.id in [r.id for r in pane.requests],
                       "the proposal in the list")
        _select(pane, request.id)
        detail = pane.query_one("#detail-text", Markdown)
        await wait_for(pilot, lambda: "## What-if" in (detail.source or ""), "the detail")
        text = detail.source or ""
        assert "Set the HX-101 outlet temperature setpoint to 33" in text  # the question
        assert "**E1** read_tags (cited" in text  # the reading of the setpoint it cites
        assert "HX-101.HotOutletTemperature" in text
        assert "`setpoint=33` over 2 h" in text  # a real prediction of the twin
        assert "| HX-101.HotOutletTemperature |" in text

        # The policy lets no shift lead approve it: approve is not offered (the footer
        # has no "Approve", the key does nothing); withdrawing it (deny) is.
        assert _review(service).request_actions(request) == {"deny"}
        assert pane.check_action("approve", ()) is False
        assert pane.check_action("deny", ()) is True
        await pilot.press("a")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert "Approve" not in [b.binding.description for b in app.active_bindings.values()
                                 if b.binding.show and b.enabled]
    assert service.sources.approvals.get(request.id).state == "pending"
    # The policy itself still refuses it, said and audited, if asked directly.
    with pytest.raises(ApprovalRefused, match="role shift_lead may not approve"):
        await _review(service).approve(request.id)
    refused = [e for e in _approval_events(service, request.id)
               if e["event"] == "approve_refused"]
    assert refused and refused[0]["actor"] == SHIFT_LEAD

    # An engineer's UI (same service, their settings): approve, then write it.
    engineer = Host(as_person(_review(service), ENGINEER, "engineer"))
    app = PaneApp(lambda: ApprovalsPane(engineer, poll_s=60.0))
    async with app.run_test(size=(100, 40)) as pilot:
        pane = app.query_one(ApprovalsPane)
        await wait_for(pilot, lambda: request.id in [r.id for r in pane.requests],
                       "the proposal in the engineer's list")
        _select(pane, request.id)
        await pilot.press("a", "y")
        await wait_for(pilot, lambda: service.sources.approvals.get(request.id).state
                       == "approved", "the approval")
        await wait_for(pilot, lambda: any(r.id == request.id and r.state == "approved"
                                          for r in pane.requests), "the list to update")
        _select(pane, request.id)
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_for(pilot, lambda: service.sources.approvals.get(request.id).state
                       in ("executed", "failed"), "the write")
    done = service.sources.approvals.get(request.id)
    assert done.state == "executed", done.failure
    assert done.decided_by == ENGINEER and done.decided_role == "engineer"
    assert done.read_back == pytest.approx(33.0)
    events = [e["event"] for e in _approval_events(service, request.id)]
    assert events[:3] == ["requested", "approve_refused", "approved"]
    # Who decided, with the signature checked against the register, as the pane shows it.
    proposal = await _review(service).proposal(request.id)
    assert len(proposal.signatures) == 1
    assert proposal.signatures[0].startswith(f"{ENGINEER} (engineer) approved at ")
    assert proposal.signatures[0].endswith(": signature verified")
    assert f"- **signed** {proposal.signatures[0]}" in detail_markdown(
        proposal, _review(service).site_time)


async def test_deny_with_a_note(service: AgentService, model: ScriptedModel) -> None:
    request = await _propose(service, model, 34.0)
    engineer = Host(as_person(_review(service), ENGINEER, "engineer"))
    app = PaneApp(lambda: ApprovalsPane(engineer, poll_s=60.0))
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ApprovalsPane)
        await wait_for(pilot, lambda: request.id in [r.id for r in pane.requests],
                       "the proposal in the list")
        _select(pane, request.id)
        await pilot.press("d")
        assert isinstance(app.screen, NoteScreen)
        await pilot.press("enter")  # an empty note is not accepted
        assert isinstance(app.screen, NoteScreen)
        await pilot.press(*"coolant supply is being repaired", "enter")
        await wait_for(pilot, lambda: service.sources.approvals.get(request.id).state
                       == "denied", "the denial")
        await wait_for(pilot, lambda: request.id not in [r.id for r in pane.requests],
                       "the denied request to leave the list")
    denied = service.sources.approvals.get(request.id)
    assert denied.decision_note == "coolant supply is being repaired"
    assert denied.decided_by == ENGINEER
    record = [e for e in _approval_events(service, request.id) if e["event"] == "denied"]
    assert record and record[0]["note"] == "coolant supply is being repaired"
