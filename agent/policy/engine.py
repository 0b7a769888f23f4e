"""The policy engine: the one place that decides whether a tool call may run.

It implements the agent loop's :class:`~agent.policy.decision.PolicyGate`. It decides from
the role, the tool's declared flags and the policy files only; the text of the question
or of the model's output is never consulted, so an injected instruction cannot widen what
is allowed. A tool that writes to the plant is never allowed: with a proposer configured,
the call becomes a pending approval request a person must approve.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent.errors import ToolError, UsageError
from agent.policy.decision import Decision
from agent.policy.loader import load_policy
from agent.policy.models import Budget, Policy
from agent.policy.patterns import tool_matches, tool_matches_any
from tools.registry import ToolSpec

if TYPE_CHECKING:
    from agent.settings import Settings

#: The tool that turns a write into an approval request; the role must be allowed it.
PROPOSE_TOOL = "propose_setpoint_change"


#: Creates a pending approval request from a write tool's call: (actor, role, tool name,
#: arguments) -> the new request's id; raises ToolError (e.g. WriteRefused) when it can not.
WriteProposer = Callable[[str, str, str, dict[str, Any]], str]


class PolicyEngine:
    """Role-based tool permissions, budgets and the write-to-approval rule."""

    def __init__(self, policy: Policy, *, proposer: WriteProposer | None = None) -> None:
        self.policy = policy
        self.proposer = proposer

    @classmethod
    def from_settings(
        cls, settings: Settings, *, proposer: WriteProposer | None = None
    ) -> PolicyEngine:
        """The engine of the site: shipped policy with ``<home>/policies/*.toml`` merged
        over it. ConfigError (naming file, key and fix) when any file is broken."""
        return cls(load_policy(settings.home).policy, proposer=proposer)

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
        if self.proposer is None:
            return Decision(
                False,
                f"{spec.name} writes to the plant and is never run directly; "
                f"use {PROPOSE_TOOL} to ask a person to approve the change",
                "write-needs-approval",
            )
        try:
            request_id = self.proposer(actor, role, spec.name, args)
        except ToolError as exc:
            return Decision(
                False,
                f"{spec.name} was not run and no approval request was made: {exc}",
                "write-proposal-refused",
            )
        return Decision(
            False,
            f"{spec.name} was not run: writes need a human approval. Approval request "
            f"{request_id} was created and waits for an approver",
            "write-needs-approval",
        )

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
