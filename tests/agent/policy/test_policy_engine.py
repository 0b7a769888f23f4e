"""The policy engine: role permissions, budgets, and pure decisions about writes and
changes (the person's change request is an input; deciding creates nothing)."""

from __future__ import annotations

import pytest

from agent.errors import UsageError
from agent.policy.decision import ChangeRequest, PolicyGate
from agent.policy.engine import PolicyEngine
from agent.policy.loader import load_policy
from tools.opcua import toolset
from tools.opcua.models import TagInfo
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
    tag_info,
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


def test_deciding_about_a_write_creates_nothing() -> None:
    # Deciding is pure: the engine has no way to create a request (no proposer), and a
    # write is refused the same way whatever its arguments.
    engine = PolicyEngine(make_policy())
    args = {"tag": "T-101.LevelSetpoint", "value": 58.0, "reason": "level low"}
    first = engine.decide("ann", "shift_lead", WRITE, args)
    assert (first.allowed, first.rule) == (False, "write-needs-approval")
    assert "person's own request" in first.reason
    assert engine.decide("ann", "shift_lead", WRITE, args) == first


TARGET = tag_info("T-101", "LevelSetpoint", 30.0, 80.0)
LEVEL = tag_info("T-101", "Level", 0.0, 100.0)
TAGS = [TARGET, LEVEL, tag_info("HX-101", "OutletSetpoint", 30.0, 40.0)]


def _asked(value: float | None = 58.0, tag: str | None = "T-101.LevelSetpoint",
           words: str | None = None, candidates: tuple[str, ...] = ()) -> ChangeRequest:
    return ChangeRequest(text="set it", equipment=("T-101",), tag=tag, value=value,
                         value_words=words, candidates=candidates)


def test_an_asked_change_within_the_rule_is_allowed_and_nothing_happens() -> None:
    engine = PolicyEngine(make_policy())
    decision = engine.decide_change("ann", "shift_lead", _asked(58.0), TARGET, current=55.0)
    assert decision.allowed and decision.rule == "write-rule:tank level setpoint"
    assert decision.terms is not None and decision.terms.approver_roles == ("engineer",)
    assert (decision.value, decision.current) == (58.0, 55.0)


@pytest.mark.parametrize(("requested", "target", "current", "kind", "suggestion"), [
    (None, TARGET, 55.0, "not-requested", None),
    (_asked(75.0), TARGET, 55.0, "out-of-bounds", 60.0),
    (_asked(64.0), TARGET, 55.0, "step-too-large", 60.0),
    (_asked(None, words="max"), TARGET, 55.0, "no-number", 60.0),
    (_asked(None, words="lower"), TARGET, 55.0, "no-number", 50.0),
    (_asked(55.0), TARGET, 55.0, "no-change", None),
    (_asked(50.0, tag="T-101.Level"), LEVEL, 54.2, "not-writable", None),
    (_asked(50.0, tag=None), None, None, "no-target", None),
    (_asked(50.0, tag=None, candidates=("T-101.Level", "T-101.LevelSetpoint")), None, None,
     "ambiguous-target", None),
    (_asked(58.0, tag="T-101.Level"), TARGET, 55.0, "not-requested", None),
])
def test_refused_changes_say_why_and_what_to_ask_instead(
    requested: ChangeRequest | None, target: TagInfo | None, current: float | None,
    kind: str, suggestion: float | None,
) -> None:
    engine = PolicyEngine(make_policy())
    decision = engine.decide_change("ann", "shift_lead", requested, target, current=current,
                                    catalog_tags=TAGS)
    assert not decision.allowed
    assert decision.refusal is not None and decision.refusal.kind == kind
    assert decision.refusal.suggestion == suggestion
    if kind in ("out-of-bounds", "step-too-large", "no-number"):
        assert (decision.refusal.low, decision.refusal.high, decision.refusal.max_step) == (
            40.0, 70.0, 5.0)
        assert decision.refusal.rule_name == "tank level setpoint"
    if kind in ("not-writable", "no-target"):
        assert [a.tag for a in decision.refusal.alternatives] == [
            "T-101.LevelSetpoint", "HX-101.OutletSetpoint"]


def test_roles_that_may_not_propose_are_told_who_may() -> None:
    engine = PolicyEngine(make_policy())
    for role in ("auditor", "triage_service"):
        decision = engine.decide_change("x", role, _asked(), TARGET, current=55.0)
        assert decision.rule == "write-not-proposable"
        assert decision.refusal is not None and decision.refusal.roles == (
            "engineer", "shift_lead")
    unknown = engine.decide_change("x", "intern", _asked(), TARGET, current=55.0)
    assert unknown.rule == "unknown-role" and not unknown.allowed


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
