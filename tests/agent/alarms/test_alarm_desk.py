"""The alarm desk against the real demo server and a real encrypted site: acknowledge,
comment, timed shelve with approval, auto-unshelve and the refusals, each read back from
the server and found in the audit log."""

from __future__ import annotations

import asyncio

import pytest

from agent.alarms.shelve_rules import ShelveRefused
from agent.errors import PolicyDenied
from agent.runtime.alarms import AlarmSession
from plant.server import DemoPlantServer
from tools.opcua.conditions import read_condition

from ...support.people import Staff
from .alarms_helpers import ENGINEER, LEAD, records

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_acknowledge_and_comment_are_read_back_and_audited(
    plant: DemoPlantServer, desk: AlarmSession
) -> None:
    name = "P-101.Vibration.High"
    await plant.force_alarm(name, active=True)
    board = await desk.desk.board()
    row = next(r for r in board if r.state.name == name)
    assert (row.priority, row.status) == ("high", "unacknowledged")
    shown = row.state.event_id

    acked = await desk.desk.acknowledge(actor=LEAD, role="shift_lead", condition=name,
                                        event_id=shown, comment="checking the pump")
    assert acked.outcome == "done" and acked.state.acked is True
    assert plant.conditions[name].acked  # the server agrees
    commented = await desk.desk.comment(actor=LEAD, role="shift_lead", condition=name,
                                        comment="bearing replaced last week")
    assert commented.state.comment == "bearing replaced last week"

    calls = records(desk.audit, "tool_call", "acknowledge_alarm")
    results = records(desk.audit, "tool_result", "acknowledge_alarm")
    assert calls[-1]["event_id"] == shown and calls[-1]["condition"] == name
    assert results[-1]["ok"] and results[-1]["event_id"] == shown
    assert results[-1]["result"]["state"]["acked"] is True
    decision = records(desk.audit, "policy_decision", "comment_alarm")[-1]
    assert decision["allowed"] and decision["rule"].startswith("role-tools:")
    await plant.force_alarm(name, active=False)


async def test_the_auditor_may_not_acknowledge(plant: DemoPlantServer,
                                               desk: AlarmSession) -> None:
    name = "C-101.OilPressure.Low"
    await plant.force_alarm(name, active=True)
    with pytest.raises(PolicyDenied, match="may not call acknowledge_alarm"):
        await desk.desk.acknowledge(actor="ann", role="auditor", condition=name)
    refused = records(desk.audit, "policy_decision", "acknowledge_alarm")[-1]
    assert refused["allowed"] is False
    assert plant.conditions[name].acked is False  # nothing happened on the server
    assert desk.desk.allowed("auditor") == set()
    assert desk.desk.allowed("shift_lead") == {"acknowledge", "confirm", "comment",
                                               "shelve", "unshelve"}


async def test_timed_shelve_with_approval_then_auto_unshelve(
    plant: DemoPlantServer, desk: AlarmSession, staff: Staff
) -> None:
    name = "T-101.Level.Low"
    shelving = desk.desk.shelving
    # 0.02 min: short enough to see the server unshelve it by itself.
    request = await desk.desk.shelve(actor=LEAD, role="shift_lead", condition=name,
                                     minutes=0.02, reason="level transmitter being replaced")
    assert request.state == "pending" and request.priority == "medium"
    assert plant.conditions[name].shelving == "Unshelved"  # nothing before the approval
    with pytest.raises(ShelveRefused, match="may not approve"):
        await shelving.approve(request.id, staff(LEAD, "shift_lead"))
    with pytest.raises(ShelveRefused, match="two-person"):
        await shelving.approve(request.id, staff(LEAD, "engineer"))
    approved = await shelving.approve(request.id, staff(ENGINEER, "engineer"))
    done = await shelving.execute(approved.id, staff(ENGINEER, "engineer"))
    assert done.state == "executed" and done.read_back is not None
    assert done.read_back["shelving"] == "TimedShelved"
    with pytest.raises(ShelveRefused, match="not approved"):
        await shelving.execute(approved.id, staff(ENGINEER, "engineer"))

    events = [p["event"] for p in records(desk.audit, "approval", "shelve_alarm")
              if p["request"] == request.id]
    assert events == ["requested", "approve_refused", "approve_refused", "approved",
                      "executing", "executed"]
    approved_record = next(p for p in records(desk.audit, "approval", "shelve_alarm")
                           if p["request"] == request.id and p["event"] == "approved")
    assert approved_record["signed"]["statement"]["verb"] == "approve"
    result = records(desk.audit, "tool_result", "shelve_alarm")[-1]
    assert result["request"] == request.id and result["result"]["state"]["shelving"] == (
        "TimedShelved")

    state = None
    for _ in range(40):
        await asyncio.sleep(0.1)
        state = await read_condition(desk.connection, None, request.condition_id)
        if state.shelving == "Unshelved":
            break
    assert state is not None and state.shelving == "Unshelved"
    assert "automatically" in plant.conditions[name].last_change


async def test_refusals_longer_than_the_server_allows_and_highest_priority(
    plant: DemoPlantServer, desk: AlarmSession
) -> None:
    with pytest.raises(ShelveRefused, match=r"MaxTimeShelved .*10 min"):
        await desk.desk.shelve(actor=LEAD, role="shift_lead", condition="P-101.Speed.Low",
                               minutes=20, reason="speed transmitter noisy")
    with pytest.raises(ShelveRefused, match="longer than the site allows"):
        await desk.desk.shelve(actor=LEAD, role="shift_lead", condition="P-101.Speed.Low",
                               minutes=600, reason="speed transmitter noisy")
    with pytest.raises(ShelveRefused, match=r"highest priority .*urgent"):
        await desk.desk.shelve(actor=LEAD, role="shift_lead",
                               condition="P-101.BearingTemperature.High", minutes=5,
                               reason="nuisance")
    with pytest.raises(ShelveRefused, match="may not call shelve_alarm"):
        await desk.desk.shelve(actor="ann", role="auditor", condition="P-101.Speed.Low",
                               minutes=5, reason="curious")
    refused = [p for p in records(desk.audit, "approval", "shelve_alarm")
               if p["event"] == "request_refused"]
    assert [p["condition"] for p in refused[-3:]] == [
        "P-101.Speed.Low", "P-101.Speed.Low", "P-101.BearingTemperature.High"]
    assert not plant.conditions["P-101.Speed.Low"].shelved
    assert not plant.conditions["P-101.BearingTemperature.High"].shelved
    assert await desk.desk.shelving.requests({"pending"}) == []


async def test_unshelve_needs_no_approval_and_is_executed_at_once(
    plant: DemoPlantServer, desk: AlarmSession, staff: Staff
) -> None:
    name = "M-101.Speed.Low"
    request = await desk.desk.shelve(actor=LEAD, role="shift_lead", condition=name,
                                     minutes=5, reason="drive maintenance")
    await desk.desk.shelving.approve(request.id, staff(ENGINEER, "engineer"))
    await desk.desk.shelving.execute(request.id, staff(ENGINEER, "engineer"))
    back = await desk.desk.unshelve(actor=LEAD, role="shift_lead", condition=name,
                                    reason="maintenance done")
    assert back.state == "executed" and back.decided_by == "policy"
    assert plant.conditions[name].shelving == "Unshelved"


async def test_a_shelve_runs_only_on_a_signed_approval_in_the_audit_log(
    plant: DemoPlantServer, desk: AlarmSession, staff: Staff
) -> None:
    name = "T-101.Level.Low"
    shelving = desk.desk.shelving
    request = await desk.desk.shelve(actor=LEAD, role="shift_lead", condition=name,
                                     minutes=1.0, reason="transmitter swap")
    # The requester under another letter case is still the requester.
    with pytest.raises(ShelveRefused, match="two-person"):
        await shelving.approve(request.id, staff(LEAD.upper(), "engineer"))
    # A row set to "approved" behind the service's back: no signed approval, no shelve.
    forged = request.model_copy(update={"state": "approved", "decided_by": ENGINEER})
    assert await asyncio.to_thread(desk.store.transition, forged, "pending")
    with pytest.raises(ShelveRefused, match="no valid signed approval") as info:
        await shelving.execute(request.id, staff(ENGINEER, "engineer"))
    assert info.value.fix
    assert plant.conditions[name].shelving == "Unshelved"
