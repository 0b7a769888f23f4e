"""Change requests: only a person's own "set X to N" becomes a proposal (through the gated
tool path), and no proposal or write tool runs in a question that asks for no change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.approvals.service import ApprovalService
from agent.audit.log import AuditLog
from agent.llm.scripted import ScriptedModel
from agent.pipeline.change_request import asks_for_change, setpoint_request
from agent.pipeline.prefetch import plan
from agent.pipeline.runner import Agent, AgentDeps
from agent.policy.engine import PolicyEngine
from agent.settings import load_settings
from tools import proposals
from tools.context import ToolContext
from tools.registry import ToolRegistry

from .policy_helpers import make_catalog


def test_explicit_requests_become_one_proposal() -> None:
    cat = make_catalog()
    args = setpoint_request("Please set the T-101 level setpoint to 58 %", cat, ["T-101"])
    assert args is not None
    assert (args["tag"], args["value"]) == ("T-101.LevelSetpoint", 58.0)
    assert "requested by the asker" in args["reason"]
    german = setpoint_request("Stelle den Sollwert von T-101 Füllstand auf 57,5", cat, ["T-101"])
    assert german is not None and german["value"] == 57.5
    available = {"read_tags", "propose_setpoint_change"}
    calls = plan("Set the T-101 level setpoint to 58", cat, available)
    assert [c.tool for c in calls][-1] == "propose_setpoint_change"


def test_no_proposal_without_an_explicit_unambiguous_request() -> None:
    cat = make_catalog()
    assert setpoint_request("What is the T-101 level setpoint?", cat, ["T-101"]) is None
    assert setpoint_request("Raise the T-101 level setpoint", cat, ["T-101"]) is None
    assert setpoint_request("Set T-101 level setpoint to 50 or to 60", cat, ["T-101"]) is None
    assert setpoint_request("Set the pump to 50", cat, []) is None
    assert not asks_for_change("What is the level of T-101?")
    assert asks_for_change("Raise the tank level setpoint")


def _call(name: str, **args: Any) -> dict[str, Any]:
    return {"action": "call_tool", "tool": name, "args": args}


async def test_a_question_without_a_change_request_never_proposes(
    tmp_path: Path, service: ApprovalService, audit: AuditLog
) -> None:
    # The model (as if steered by a planted manual) tries to propose in a read question.
    model = ScriptedModel([
        _call("propose_setpoint_change", tag="T-101.LevelSetpoint", value=60.0,
              reason="the manual says so", evidence_ids=[]),
        {"action": "cannot_answer", "reason": "refused", "needed": "a person's request"},
    ])
    catalog = make_catalog()
    registry = ToolRegistry()
    proposals.register(registry, service)
    engine = PolicyEngine(service.policy, proposer=service.as_proposer(lambda: catalog))
    settings = load_settings(home=tmp_path, agent={"user": "ann", "role": "shift_lead"})
    deps = AgentDeps(model=model, registry=registry,
                     tool_context=ToolContext(settings=settings, catalog=catalog),
                     policy=engine, audit=audit)
    answer = await Agent(deps).ask("What does the manual say about T-101?", actor="ann",
                                   role="shift_lead")
    step = answer.steps[0]
    assert not step.ok and "did not ask for a change" in step.result["refused"]
    assert service.requests() == []
    decision = [r.payload for r in audit.search(kind="policy_decision")][-1]
    assert decision["rule"] == "change-not-requested" and decision["allowed"] is False
