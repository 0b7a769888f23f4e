"""The policy engine: the one place that decides whether a tool call may run, and
whether a change of the plant may be proposed.

It implements the pipeline's :class:`~agent.policy.decision.PolicyGate`. It decides from
the role, the tool's declared flags, the policy files and, for a change, the person's
own change request (an explicit input, read from the person's question by the pipeline);
tool results and model output are never consulted, so an injected instruction cannot
widen what is allowed. Deciding has no side effect: a tool that writes to the plant is
never allowed, and an allowed change is proposed by a separate, explicit step
(``ApprovalService.propose_change``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from agent.errors import UsageError, WriteRefused
from agent.policy.decision import (
    Alternative,
    ChangeDecision,
    ChangeRequest,
    Decision,
    Refusal,
)
from agent.policy.loader import load_policy
from agent.policy.models import Budget, Policy
from agent.policy.patterns import tool_matches, tool_matches_any
from agent.policy.writes import allowed_interval, bounds_problem, write_terms
from tools.registry import ToolSpec

if TYPE_CHECKING:
    from agent.settings import Settings
    from tools.opcua.models import TagInfo

#: Words that ask for the highest / lowest value instead of giving one.
_UPWARD = frozenset({"max", "maximum", "highest", "top", "full", "up", "higher", "more",
                     "raise", "increase", "maximal", "höchste", "höher", "mehr", "erhöhe",
                     "erhöhen", "plus", "augmenter", "augmentez", "más", "mas", "alto",
                     "sube", "subir", "aumenta", "aumentar"})
_DOWNWARD = frozenset({"min", "minimum", "lowest", "bottom", "down", "lower", "less",
                       "reduce", "decrease", "minimal", "niedrigste", "niedriger", "weniger",
                       "senke", "senken", "moins", "baisser", "baissez", "menos", "bajo",
                       "baja", "bajar", "reducir"})

#: The permission a role needs to request plant changes (and the audit name of a
#: proposal): a role whose tool patterns allow it may ask for changes.
PROPOSE_TOOL = "propose_setpoint_change"


class PolicyEngine:
    """Role-based tool permissions, budgets and the rules of plant changes."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    @classmethod
    def from_settings(cls, settings: Settings) -> PolicyEngine:
        """The engine of the site: shipped policy with ``<home>/policies/*.toml`` merged
        over it. ConfigError (naming file, key and fix) when any file is broken."""
        return cls(load_policy(settings.home).policy)

    def budget(self, role: str) -> Budget:
        """The budget of ``role`` (max_steps, max_tool_calls, seconds_per_question)."""
        self._require_role(role)
        return self.policy.budget(role)

    def capped_budget(self, role: str, *, max_steps: int, time_budget_s: float) -> Budget:
        """The role's budget, lowered (never raised) by the settings' agent limits
        (``settings.agent.max_steps`` and ``settings.agent.time_budget_s``)."""
        budget = self.budget(role)
        return budget.model_copy(update={
            "max_steps": min(budget.max_steps, max_steps),
            "seconds_per_question": min(budget.seconds_per_question, time_budget_s),
        })

    def roles(self) -> list[str]:
        """Role names the policy defines."""
        return sorted(self.policy.roles)

    def tool_allowed(self, role: str, tool: str) -> str | None:
        """The pattern allowing ``role`` to call ``tool``, or None (unknown role included)."""
        spec = self.policy.roles.get(role)
        if spec is None or tool_matches(tool, spec.deny_tools):
            return None
        return tool_matches(tool, spec.tools)

    def decide(self, actor: str, role: str, spec: ToolSpec, args: dict[str, Any]) -> Decision:
        """The verdict on ``actor`` in ``role`` calling ``spec`` (PolicyGate protocol)."""
        if role not in self.policy.roles:
            return Decision(
                False,
                f"role {role!r} is not defined in the policy; nothing is allowed for it",
                "unknown-role",
            )
        if spec.writes_to_plant:
            return self._write_decision(actor, role, spec, args)
        denied = tool_matches(spec.name, self.policy.roles[role].deny_tools)
        if denied:
            return Decision(False, f"role {role} may not call {spec.name}", f"deny:{denied}")
        allowed = tool_matches(spec.name, self.policy.roles[role].tools)
        if allowed is None:
            return Decision(
                False, f"role {role} may not call {spec.name}", "role-tools:not-listed"
            )
        if spec.requires_approval:
            return Decision(
                False,
                f"{spec.name} needs a human approval before it runs; "
                "propose it instead and let an approver decide",
                "requires-approval",
            )
        return Decision(True, f"role {role} may call {spec.name}", f"role-tools:{allowed}")

    def _write_decision(
        self, actor: str, role: str, spec: ToolSpec, args: dict[str, Any]
    ) -> Decision:
        if self.tool_allowed(role, PROPOSE_TOOL) is None:
            return Decision(
                False,
                f"{spec.name} writes to the plant; role {role} may not even propose writes",
                "write-not-proposable",
            )
        return Decision(
            False,
            f"{spec.name} writes to the plant and is never run directly; a change is "
            "proposed only from a person's own request (e.g. 'Set T-101.LevelSetpoint "
            "to 58') and written after a human approval",
            "write-needs-approval",
        )

    def writable(self, tags: Sequence[TagInfo], *, prefer: Sequence[str] = ()
                 ) -> list[Alternative]:
        """The tags of ``tags`` a write rule allows, with their rule's range; those of
        the equipment in ``prefer`` first."""
        out = []
        for tag in tags:
            try:
                terms = write_terms(self.policy, tag.namespace_uri, tag.browse_path)
            except WriteRefused:
                continue
            out.append(Alternative(tag.name, terms.rule.min, terms.rule.max, tag.unit))
        return sorted(out, key=lambda a: a.tag.split(".", 1)[0] not in prefer)

    def proposer_roles(self) -> list[str]:
        """Roles whose people may request plant changes."""
        return [r for r, spec in sorted(self.policy.roles.items())
                if spec.human and self.tool_allowed(r, PROPOSE_TOOL) is not None]

    def decide_change(
        self,
        actor: str,
        role: str,
        requested: ChangeRequest | None,
        target: TagInfo | None,
        *,
        current: float | None,
        catalog_tags: Sequence[TagInfo] = (),
    ) -> ChangeDecision:
        """Whether ``actor`` in ``role`` may have ``target`` set as ``requested`` (the
        person's own request; None when the person asked for no change). ``current`` is
        the value just read; ``catalog_tags`` the plant's tags (a refusal names the
        writable ones). Pure: nothing is proposed here."""
        value = requested.value if requested is not None else None

        def refuse(refusal: Refusal, rule: str, **extra: Any) -> ChangeDecision:
            return ChangeDecision(False, refusal.detail, rule, requested, target, value,
                                  current, refusal=refusal, **extra)

        if role not in self.policy.roles:
            return refuse(Refusal("unknown-role", f"role {role!r} is not defined in the "
                                  "policy; nothing is allowed for it"), "unknown-role")
        if self.tool_allowed(role, PROPOSE_TOOL) is None:
            return refuse(Refusal("may-not-propose", f"role {role} may not request plant "
                                  "changes", roles=tuple(self.proposer_roles())),
                          "write-not-proposable")
        if requested is None or (target is not None and requested.tag not in (None, target.name)):
            return refuse(Refusal("not-requested", "the person's question did not ask for "
                                  "this change"), "change-not-requested")
        if target is None:
            writable = self.writable(catalog_tags, prefer=requested.equipment)
            if requested.candidates:
                named = [a for a in writable if a.tag in requested.candidates]
                return refuse(Refusal(
                    "ambiguous-target", "the request names more than one setpoint: "
                    + " or ".join(requested.candidates), alternatives=tuple(named or writable)),
                    "change-target-ambiguous")
            return refuse(Refusal("no-target", "the request names no setpoint this plant "
                                  "has", alternatives=tuple(writable)), "change-target-unknown")
        try:
            terms = write_terms(self.policy, target.namespace_uri, target.browse_path)
        except WriteRefused as exc:
            return refuse(Refusal("not-writable", exc.message, alternatives=tuple(
                self.writable(catalog_tags, prefer=(target.equipment,)))),
                "write-not-allowlisted")
        rule = terms.rule
        window = allowed_interval(terms, current=current, eu_low=target.eu_low,
                                  eu_high=target.eu_high)
        common: dict[str, Any] = {"rule_name": rule.name, "low": rule.min, "high": rule.max,
                                  "max_step": rule.max_step}
        if value is None:
            words = (requested.value_words or "").lower()
            pick: float | None = None
            if window is not None:
                inside = current is not None and window[0] <= current <= window[1]
                pick = window[1] if words in _UPWARD else window[0] if words in _DOWNWARD \
                    else current if inside else window[0]
            shown = f" ({requested.value_words!r} is not one)" if requested.value_words else ""
            return refuse(Refusal("no-number", f"a change needs the exact value to write"
                                  f"{shown}", suggestion=pick if window else None, **common),
                          "change-needs-number", terms=terms)
        if current is not None and abs(value - current) <= 1e-9:
            return refuse(Refusal("no-change", f"{target.name} is already {current:g}",
                                  **common), "change-no-op", terms=terms)
        problem = bounds_problem(terms, value, current=current, eu_low=target.eu_low,
                                 eu_high=target.eu_high)
        if problem is not None:
            if problem.kind == "outside-eu-range":
                common.update(low=target.eu_low, high=target.eu_high)
            return refuse(Refusal(problem.kind, problem.message, suggestion=problem.suggestion,
                                  **common), f"write-rule:{rule.name}:{problem.kind}",
                          terms=terms)
        approvers = " or ".join(terms.approver_roles)
        return ChangeDecision(
            True, f"{actor} asked for it; within rule {rule.name!r}; it needs an approval by "
            f"{approvers}", f"write-rule:{rule.name}", requested, target, value, current,
            terms=terms)

    def unused_patterns(self, tool_names: list[str]) -> dict[str, list[str]]:
        """Per role, the ``tools`` patterns that match none of ``tool_names`` (a typo in a
        pattern only ever denies, but is worth a warning at start-up)."""
        out: dict[str, list[str]] = {}
        for role, spec in sorted(self.policy.roles.items()):
            unused = [p for p in spec.tools if tool_matches_any(p, tool_names) is None]
            if unused:
                out[role] = unused
        return out

    def question_gate(self, role: str) -> QuestionGate:
        """A gate for ONE question that also enforces the role's max_tool_calls."""
        return QuestionGate(self, self.budget(role).max_tool_calls)

    def _require_role(self, role: str) -> None:
        if role not in self.policy.roles:
            raise UsageError(
                f"role {role!r} is not defined in the policy",
                fix=f"use one of: {', '.join(self.roles())}",
            )


class QuestionGate:
    """Wraps the engine for one question, counting the tool calls it allows."""

    def __init__(self, engine: PolicyEngine, max_tool_calls: int) -> None:
        self.engine = engine
        self.max_tool_calls = max_tool_calls
        self.calls = 0

    def decide(self, actor: str, role: str, spec: ToolSpec, args: dict[str, Any]) -> Decision:
        """The engine's verdict, refused once the question's tool-call budget is spent."""
        if self.calls >= self.max_tool_calls:
            return Decision(
                False,
                f"the budget of {self.max_tool_calls} tool calls for this question is spent; "
                "answer from the evidence gathered",
                "budget:max_tool_calls",
            )
        decision = self.engine.decide(actor, role, spec, args)
        if decision.allowed:
            self.calls += 1
        return decision

    def decide_change(
        self,
        actor: str,
        role: str,
        requested: ChangeRequest | None,
        target: TagInfo | None,
        *,
        current: float | None,
        catalog_tags: Sequence[TagInfo] = (),
    ) -> ChangeDecision:
        """The engine's verdict on a change (a change does not spend the tool budget)."""
        return self.engine.decide_change(actor, role, requested, target, current=current,
                                         catalog_tags=catalog_tags)
