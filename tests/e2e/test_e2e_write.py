"""End to end, a plant write with the real default model: a shift lead asks for a setpoint
change, the agent proposes it, nothing is written until an engineer approves, then the
approved write runs, reads back, and the audit log holds every step and verifies.

The approval and the write go through the same ApprovalService and ApprovedWriteExecutor
that `plantagent approve` uses; the model has no tool that approves.
"""

from __future__ import annotations

import pytest
from asyncua import Client

from agent.approvals.executor import WRITE_TOOL, ApprovedWriteExecutor
from agent.approvals.models import ApprovalRequest
from agent.approvals.refusals import ApprovalRefused
from agent.people.demo import DEMO_ENGINEER, DEMO_OPERATOR, enroll_demo_people
from agent.people.identity import acting
from agent.people.models import ADMIN_ROLE
from agent.runtime import SiteRuntime
from plant.server import DemoPlantServer
from tests.support.people import Staff

pytestmark = [pytest.mark.model, pytest.mark.asyncio(loop_scope="module")]

SHIFT_LEAD = "e2e-shift-lead"
TAG = "HX-101.OutletTemperatureSetpoint"


async def read_node(plant: DemoPlantServer, tag: str) -> float:
    """The value as an independent OPC UA client sees it."""
    async with Client(plant.endpoint, timeout=10) as client:
        return float(await client.get_node(plant.node_id(tag)).read_value())


async def test_a_requested_change_waits_for_an_engineer_then_is_written(
    runtime: SiteRuntime, plant: DemoPlantServer
) -> None:
    assert "approve" not in " ".join((await runtime.agent()).deps.registry.names())
    before = await read_node(plant, TAG)
    assert before == 35.0

    answer = await (await runtime.agent()).ask(
        "Please set the HX-101 outlet temperature setpoint to 33 °C",
        actor=SHIFT_LEAD, role="shift_lead",
    )
    proposals = [s for s in answer.steps if s.tool == "propose_setpoint_change" and s.ok]
    assert proposals, answer.steps
    pending = runtime.approvals.requests({"pending"})
    assert pending and all(r.target.tag == TAG and r.value == 33.0 for r in pending), pending
    assert {r.requested_by for r in pending} == {SHIFT_LEAD}
    proposed = proposals[0].result
    assert isinstance(proposed, ApprovalRequest)
    request_id = proposed.id
    # The answer is the system's, from the decision: nothing is claimed done.
    assert answer.written_by == "system"
    assert f"Approval request {request_id} was created" in answer.answer
    assert "from 35 °C" in answer.answer and "to 33 °C" in answer.answer

    # Nothing is written before an approval, however long we wait.
    await plant.wait_ticks(3)
    assert await read_node(plant, TAG) == 35.0
    assert plant.model.setpoints()[TAG] == 35.0

    # Two-person rule: the requester may not approve, not even claiming the engineer role;
    # a shift lead may not approve at all; nobody executes an unapproved request.
    # The demo's people: the demo engineer is this OS account's person, key in a key file.
    # The engineer works from an OS account of their own, not the one that asked.
    enrolled = enroll_demo_people(runtime.people, runtime.settings.home, account="engineer")
    assert [p.name for p in enrolled] == [DEMO_ENGINEER, DEMO_OPERATOR]
    engineer = acting(runtime.people, account="engineer")
    assert (engineer.name, engineer.role) == (DEMO_ENGINEER, "engineer")
    staff = Staff(runtime.people, runtime.settings.home / "people-keys",
                  ["shift_lead", "engineer"],
                  admin=acting(runtime.people, account="engineer", role=ADMIN_ROLE).signer)
    with pytest.raises(ApprovalRefused, match=r"two-person rule"):
        runtime.approvals.approve(request_id, staff(SHIFT_LEAD, "engineer"))
    with pytest.raises(ApprovalRefused):
        runtime.approvals.approve(request_id, staff("other-lead", "shift_lead"))
    executor = ApprovedWriteExecutor(runtime.approvals, await runtime.connection())
    with pytest.raises(ApprovalRefused):
        await executor.execute(request_id, engineer)
    assert await read_node(plant, TAG) == 35.0

    approved = runtime.approvals.approve(request_id, engineer)
    assert approved.state == "approved" and approved.decided_by == DEMO_ENGINEER
    outcome = await executor.execute(request_id, engineer)
    assert (outcome.old_value, outcome.value, outcome.read_back) == (35.0, 33.0, 33.0)
    assert runtime.approvals.get(request_id).state == "executed"
    assert await read_node(plant, TAG) == 33.0
    await plant.wait_ticks(2)
    assert plant.model.setpoints()[TAG] == 33.0  # the controller follows the new setpoint

    # The audit log holds the proposal, the refusals, the approval, the write and the
    # read-back, and the whole log verifies.
    events = [(r.payload.get("event"), r.actor) for r in runtime.audit.search(kind="approval")
              if r.payload.get("request") == request_id]
    assert ("requested", SHIFT_LEAD) in events
    assert ("approve_refused", SHIFT_LEAD) in events
    assert ("approved", DEMO_ENGINEER) in events
    writes = [r for r in runtime.audit.search(tool=WRITE_TOOL)
              if r.payload.get("request") == request_id]
    assert [r.kind for r in writes] == ["tool_call", "tool_result"]
    assert writes[0].payload["approved_by"] == ["demoengineer"]
    assert writes[0].payload["requested_by"] == SHIFT_LEAD
    assert writes[1].payload["ok"] is True and writes[1].payload["read_back"] == 33.0
    runtime.audit.checkpoint()
    report = runtime.audit.verify()
    assert report.ok, report.problems


async def test_a_question_that_asks_for_no_change_creates_no_request(
    runtime: SiteRuntime,
) -> None:
    before = {r.id for r in runtime.approvals.requests()}
    answer = await (await runtime.agent()).ask(
        "What is the HX-101 outlet temperature setpoint?", actor=SHIFT_LEAD, role="shift_lead"
    )
    assert answer.outcome == "answered", answer.answer
    assert {r.id for r in runtime.approvals.requests()} == before
