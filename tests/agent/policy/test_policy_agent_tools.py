"""The agent's proposal tools inside the real loop, with the real policy engine: a shift
lead's request becomes a pending approval, a write tool never runs, a fix is structured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from agent.approvals.service import ApprovalService
from agent.audit.log import AuditLog
from agent.llm.scripted import ScriptedModel
from agent.pipeline.runner import Agent, AgentDeps
from agent.policy.engine import PolicyEngine
from agent.settings import load_settings
from tools import fixes, proposals
from tools.context import ToolContext
from tools.opcua.write import write_tag
from tools.proposals import ProposeSetpointArgs
from tools.registry import ToolRegistry, spec_of, tool
from tools.types import TagName

from .policy_helpers import make_catalog

WRITES: list[Any] = []


class WriteArgs(BaseModel):
    tag: TagName
    value: float


class WriteResult(BaseModel):
    ok: bool


@tool(writes_to_plant=True, requires_approval=True)
async def write_setpoint(ctx: ToolContext, args: WriteArgs) -> WriteResult:
    """Write a setpoint directly (the policy must never let this run)."""
    WRITES.append(args)
    return WriteResult(ok=True)


def _agent(tmp_path: Path, model: ScriptedModel, service: ApprovalService,
           audit: AuditLog) -> Agent:
    catalog = make_catalog()
    registry = ToolRegistry()
    registry.register(write_setpoint)
    proposals.register(registry, service)
    fixes.register(registry, service.policy)
    engine = PolicyEngine(service.policy, proposer=service.as_proposer(lambda: catalog))
    settings = load_settings(home=tmp_path, agent={"user": "ann", "role": "shift_lead"})
    ctx = ToolContext(settings=settings, catalog=catalog)
    budget = engine.budget("shift_lead")
    deps = AgentDeps(model=model, registry=registry, tool_context=ctx, policy=engine,
                     audit=audit, max_steps=budget.max_steps,
                     time_budget_s=budget.seconds_per_question)
    return Agent(deps)


def _call(name: str, **args: Any) -> dict[str, Any]:
    return {"action": "call_tool", "tool": name, "args": args}


async def test_shift_lead_gets_a_proposal_an_engineer_approves(
    tmp_path: Path, service: ApprovalService, audit: AuditLog
) -> None:
    WRITES.clear()
    model = ScriptedModel([
        _call("propose_setpoint_change", tag="T-101.LevelSetpoint", value=58.0,
              reason="level trending low", evidence_ids=[]),
        _call("write_setpoint", tag="T-101.LevelSetpoint", value=60.0),
        _call("propose_fix", equipment="T-101", action="Raise the level setpoint by 3 %",
              why="the level ran low for an hour", evidence_ids=["E1"], risk="low",
              source="runbook RB-T101 section 2"),
        {"action": "final_answer", "answer": "Proposed; an engineer must approve.",
         "citations": ["E1", "E2"]},
    ])
    agent = _agent(tmp_path, model, service, audit)
    answer = await agent.ask("Raise the tank level setpoint", actor="ann", role="shift_lead")

    assert WRITES == []  # the write tool never ran
    proposal, write_attempt, fix = answer.steps[:3]
    assert proposal.ok and proposal.result["state"] == "pending"
    assert proposal.result["approver_roles"] == ["engineer"]
    assert not write_attempt.ok and write_attempt.evidence_id is None
    assert "waits for an approver" in write_attempt.result["refused"]
    assert fix.ok and fix.result["expected_effect"] == "not evaluated"
    assert fix.result["approver_roles"] == ["engineer"]
    assert fix.result["source"] == "runbook RB-T101 section 2"
    assert fix.result["evidence_ids"] == ["E1"]

    pending = service.requests({"pending"})
    assert sorted(r.value for r in pending) == [58.0, 60.0]
    assert {r.requested_by for r in pending} == {"ann"}
    decisions = [r.payload for r in audit.search(kind="policy_decision")]
    assert [d["rule"] for d in decisions] == [
        "role-tools:propose_setpoint_change", "write-needs-approval", "role-tools:propose_fix"]

    # The engineer approves; the shift lead could not have.
    request_id = proposal.result["request_id"]
    assert service.approve(request_id, user="carol", role="engineer").state == "approved"


async def test_triage_service_may_not_propose_writes(
    tmp_path: Path, service: ApprovalService, audit: AuditLog
) -> None:
    model = ScriptedModel([
        _call("propose_setpoint_change", tag="T-101.LevelSetpoint", value=58.0,
              reason="level trending low", evidence_ids=[]),
        {"action": "cannot_answer", "reason": "not allowed", "needed": "a person"},
    ])
    agent = _agent(tmp_path, model, service, audit)
    answer = await agent.ask("Fix the level", actor="triage", role="triage_service")
    assert not answer.steps[0].ok
    assert service.requests() == []


async def test_proposal_outside_bounds_goes_back_to_the_model(
    tmp_path: Path, service: ApprovalService, audit: AuditLog
) -> None:
    model = ScriptedModel([
        _call("propose_setpoint_change", tag="T-101.LevelSetpoint", value=79.0,
              reason="fill it up", evidence_ids=[]),
        {"action": "cannot_answer", "reason": "out of bounds", "needed": "a smaller value"},
    ])
    agent = _agent(tmp_path, model, service, audit)
    answer = await agent.ask("Fill the tank", actor="ann", role="shift_lead")
    step = answer.steps[0]
    assert not step.ok and "outside the bounds" in step.result["error"]
    assert "between 40 and 70" in step.result["fix"]
    assert service.requests() == []


@pytest.mark.parametrize("value", ["max", "set it to max", "higher"])
def test_vague_value_is_refused_with_a_clear_message(value: str) -> None:
    with pytest.raises(ValidationError, match="exact value to write"):
        ProposeSetpointArgs.model_validate(
            {"tag": "T-101.LevelSetpoint", "value": value, "reason": "more"}
        )
    # A number given as text is still a number.
    args = ProposeSetpointArgs.model_validate(
        {"tag": "T-101.LevelSetpoint", "value": "58.5", "reason": "more"})
    assert args.value == 58.5


def test_there_is_no_approve_tool(service: ApprovalService) -> None:
    registry = ToolRegistry()
    proposals.register(registry, service)
    fixes.register(registry, service.policy)
    names = registry.names()
    assert names == ["propose_setpoint_change", "propose_fix"]
    assert not any("approve" in n or "execute" in n or "deny" in n for n in names)


def test_the_opcua_write_tool_becomes_an_approval_request(service: ApprovalService) -> None:
    catalog = make_catalog()
    engine = PolicyEngine(service.policy, proposer=service.as_proposer(lambda: catalog))
    args = {"tag": "T-101.LevelSetpoint", "value": 57.5, "reason": "level trending low"}
    decision = engine.decide("ann", "shift_lead", spec_of(write_tag), args)
    assert not decision.allowed and decision.rule == "write-needs-approval"
    (request,) = service.requests({"pending"})
    assert request.id in decision.reason
    assert (request.value, request.reason, request.requested_by) == (
        57.5, "level trending low", "ann")
    # Outside the bounds: no request, and the model is told why.
    decision = engine.decide("ann", "shift_lead", spec_of(write_tag), {**args, "value": 99})
    assert decision.rule == "write-proposal-refused" and "outside the bounds" in decision.reason
    assert len(service.requests()) == 1
