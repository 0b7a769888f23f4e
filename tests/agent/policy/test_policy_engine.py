"""The policy engine: role permissions, budgets, writes turned into approval requests."""

from __future__ import annotations

from typing import Any

import pytest

from agent.errors import UsageError, WriteRefused
from agent.policy.decision import PolicyGate
from agent.policy.engine import PolicyEngine
from agent.policy.loader import load_policy
from tools.opcua import toolset
from tools.registry import ToolRegistry, ToolSpec

from .policy_helpers import (
    FIX,
    HISTORY,
    NEEDS_APPROVAL,
    PROPOSE,
    READ,
    UNLISTED,
    WRITE,
    make_policy,
)


@pytest.fixture
def engine() -> PolicyEngine:
    return PolicyEngine(make_policy())


def test_engine_is_a_policy_gate(engine: PolicyEngine) -> None:
    gate: PolicyGate = engine
    assert gate.decide("ann", "shift_lead", READ, {}).allowed


@pytest.mark.parametrize(
    ("role", "spec", "allowed", "rule"),
    [
        ("shift_lead", READ, True, "role-tools:read_*"),
        ("shift_lead", HISTORY, True, "role-tools:tag_*"),
        ("shift_lead", PROPOSE, True, "role-tools:propose_setpoint_change"),
        ("triage_service", PROPOSE, False, "role-tools:not-listed"),
        ("triage_service", FIX, True, "role-tools:propose_fix"),
        ("auditor", READ, True, "role-tools:read_*"),
        ("auditor", FIX, False, "deny:propose_*"),
        ("engineer", UNLISTED, False, "role-tools:not-listed"),
        ("engineer", NEEDS_APPROVAL, False, "requires-approval"),
        ("nobody", READ, False, "unknown-role"),
    ],
)
def test_role_permissions(
    engine: PolicyEngine, role: str, spec: ToolSpec, allowed: bool, rule: str
) -> None:
    decision = engine.decide("ann", role, spec, {})
    assert (decision.allowed, decision.rule) == (allowed, rule)


def test_requires_approval_is_refused_even_when_listed() -> None:
    engine = PolicyEngine(make_policy('[roles.engineer]\ntools = ["*"]\n'))
    decision = engine.decide("eve", "engineer", NEEDS_APPROVAL, {})
    assert not decision.allowed and decision.rule == "requires-approval"


def test_plant_writes_are_never_allowed_directly() -> None:
    # Even a role allowed every tool by a wildcard can not run a write.
    engine = PolicyEngine(make_policy('[roles.engineer]\ntools = ["*"]\n'))
    for role in ("engineer", "shift_lead", "triage_service", "auditor"):
        decision = engine.decide("eve", role, WRITE, {"tag": "T-101.LevelSetpoint", "value": 50})
        assert not decision.allowed
    assert engine.decide("eve", "engineer", WRITE, {}).rule == "write-needs-approval"
    assert engine.decide("eve", "triage_service", WRITE, {}).rule == "write-not-proposable"


def test_write_becomes_an_approval_request() -> None:
    made: list[tuple[str, str, dict[str, Any]]] = []

    def proposer(actor: str, role: str, tool_name: str, args: dict[str, Any]) -> str:
        made.append((actor, role, args))
        return "AP-0001"

    engine = PolicyEngine(make_policy(), proposer=proposer)
    args = {"tag": "T-101.LevelSetpoint", "value": 58.0, "reason": "level low"}
    decision = engine.decide("ann", "shift_lead", WRITE, args)
    assert not decision.allowed
    assert decision.rule == "write-needs-approval"
    assert "AP-0001" in decision.reason
    assert made == [("ann", "shift_lead", args)]

    def refusing(actor: str, role: str, tool_name: str, args: dict[str, Any]) -> str:
        raise WriteRefused("not on the write allowlist")

    decision = PolicyEngine(make_policy(), proposer=refusing).decide("ann", "shift_lead", WRITE, {})
    assert not decision.allowed and decision.rule == "write-proposal-refused"
    assert "allowlist" in decision.reason


def test_budgets(engine: PolicyEngine) -> None:
    assert engine.budget("triage_service").max_tool_calls == 8
    assert engine.budget("shift_lead").seconds_per_question == 300
    with pytest.raises(UsageError, match="not defined"):
        engine.budget("intern")
    # Settings may lower the policy's limits, never raise them.
    capped = engine.capped_budget("triage_service", max_steps=20, time_budget_s=60)
    assert (capped.max_steps, capped.seconds_per_question) == (6, 60)


def test_question_gate_counts_tool_calls(engine: PolicyEngine) -> None:
    gate = engine.question_gate("triage_service")
    results = [gate.decide("triage", "triage_service", READ, {}) for _ in range(10)]
    assert [d.allowed for d in results] == [True] * 8 + [False] * 2
    assert results[-1].rule == "budget:max_tool_calls"
    # Refusals do not spend the budget.
    gate = engine.question_gate("shift_lead")
    assert not gate.decide("ann", "shift_lead", UNLISTED, {}).allowed
    assert gate.calls == 0


def test_unused_patterns_are_reported(engine: PolicyEngine) -> None:
    names = ["list_equipment", "describe_equipment", "read_tags", "tag_history",
             "active_alarms", "recent_events", "propose_setpoint_change", "propose_fix"]
    unused = engine.unused_patterns(names)
    assert unused["shift_lead"] == ["check_limits", "search_*", "get_*", "find_*", "what_if*",
                                    "acknowledge_alarm", "confirm_alarm", "comment_alarm",
                                    "shelve_alarm", "unshelve_alarm"]
    assert "read_*" not in unused["auditor"]


def test_shipped_roles_against_the_real_opcua_tools() -> None:
    registry = ToolRegistry()
    toolset.register(registry)
    engine = PolicyEngine(load_policy(None).policy)
    for spec in registry:
        for role in ("shift_lead", "engineer", "triage_service", "auditor"):
            decision = engine.decide("ann", role, spec, {})
            # Every read tool is open to every role; anything writing never is.
            assert decision.allowed is not spec.writes_to_plant, (role, spec.name)
