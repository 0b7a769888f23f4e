"""The alarm desk: what a person does with alarms, through the policy gate, audited.

Acknowledge, confirm and comment go through the same gate as every tool call (the
policy engine's ``decide``) and run the tool of ``tools/opcua/alarm_actions.py`` when the
person's role may; shelve and unshelve become requests (``shelving.py``). Every action is
in the audit log: the gate's decision, the call with the condition and the EventId acted
on, and the result as read back from the server (or why it failed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError

from agent.alarms.requests import ShelveKind, ShelveRequest
from agent.alarms.shelving import ShelveService
from agent.audit.sink import AuditSink
from agent.errors import InvalidArgumentError, PlantAgentError, PolicyDenied, UsageError
from agent.policy.decision import PolicyGate
from agent.policy.models import AlarmsPolicy
from tools.context import ToolContext, utcnow
from tools.opcua.alarm_actions import AlarmActionResult
from tools.opcua.conditions import condition_states
from tools.opcua.models import ConditionState
from tools.registry import ToolRegistry

#: The direct actions and their tools.
DIRECT_TOOLS: dict[str, str] = {
    "acknowledge": "acknowledge_alarm", "confirm": "confirm_alarm", "comment": "comment_alarm",
}


@dataclass(frozen=True)
class AlarmRow:
    """One condition on the board, with its priority by the site's policy."""

    state: ConditionState
    priority: str
    rank: int  # 0 = the lowest priority

    @property
    def status(self) -> Literal["unacknowledged", "acknowledged", "shelved", "cleared"]:
        """unacknowledged / acknowledged / shelved / cleared (retained, not active)."""
        s = self.state
        if s.shelved:
            return "shelved"
        if s.acked is False:
            return "unacknowledged"
        if s.active is False:
            return "cleared"
        return "acknowledged"

    @property
    def left(self) -> str:
        """Time left of a shelve ('12m05s', '1h30m', 'one-shot'); '' when not shelved."""
        s = self.state
        if s.shelving == "OneShotShelved":
            return "one-shot"
        if s.shelving != "TimedShelved" or s.unshelve_in_s is None:
            return ""
        minutes, seconds = divmod(int(s.unshelve_in_s), 60)
        if minutes >= 60:
            return f"{minutes // 60}h{minutes % 60:02d}m"
        return f"{minutes}m{seconds:02d}s"


class AlarmDesk:
    """Alarm work for one site and plant connection."""

    def __init__(
        self, *, gate: PolicyGate, audit: AuditSink, context: ToolContext,
        registry: ToolRegistry, policy: AlarmsPolicy, shelving: ShelveService,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.gate = gate
        self.audit = audit
        self.context = context
        self.registry = registry
        self.policy = policy
        self.shelving = shelving
        self.clock = clock

    def allowed(self, role: str) -> set[str]:
        """The actions ``role`` may take or ask for (the UI offers only these)."""
        out = set()
        for action, tool in {**DIRECT_TOOLS, "shelve": "shelve_alarm",
                             "unshelve": "unshelve_alarm"}.items():
            decision = self.gate.decide("?", role, self.registry.get(tool), {})
            if decision.allowed or decision.rule == "requires-approval":
                out.add(action)
        return out

    async def board(self) -> list[AlarmRow]:
        """Every retained condition with its priority, most urgent first."""
        if self.context.opcua is None:
            raise UsageError("no plant connection", fix="connect to the OPC UA server first")
        states = await condition_states(self.context.opcua, self.context.catalog)
        rows = [self.row(s) for s in states]
        return sorted(rows, key=lambda r: (-r.rank, -(r.state.severity), r.state.name))

    def row(self, state: ConditionState) -> AlarmRow:
        """A condition with its priority."""
        priority = self.policy.priority_of(state.severity)
        return AlarmRow(state, priority, self.policy.rank(priority))

    async def act(
        self, action: str, *, actor: str, role: str, condition: str,
        event_id: str | None = None, comment: str = "",
    ) -> AlarmActionResult:
        """Acknowledge, confirm or comment as ``actor`` in ``role``; PolicyDenied when the
        role may not, AlarmActionError when the server refuses (both audited)."""
        tool = DIRECT_TOOLS.get(action)
        if tool is None:
            raise UsageError(f"unknown alarm action {action!r}",
                             fix=f"use one of: {', '.join(DIRECT_TOOLS)}")
        spec = self.registry.get(tool)
        args: dict[str, Any] = {"condition": condition, "comment": comment}
        if event_id:
            args["event_id"] = event_id
        decision = self.gate.decide(actor, role, spec, args)
        self.audit.append("policy_decision", actor, {
            "tool": tool, "args": args, "allowed": decision.allowed,
            "reason": decision.reason, "rule": decision.rule}, role=role, tool=tool)
        if not decision.allowed:
            raise PolicyDenied(decision.reason, fix="ask someone whose role may "
                               f"{action} alarms (plantagent policy show)")
        try:
            parsed = spec.args_model.model_validate(args)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise InvalidArgumentError(
                f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}",
                fix="give the condition as listed and, for a comment, its text") from None
        self.audit.append("tool_call", actor, {
            "tool": tool, "args": args, "condition": condition,
            "event_id": event_id or "newest"}, role=role, tool=tool,
            equipment=condition.split(".", 1)[0])
        try:
            result = await spec.run(self.context, parsed)
        except PlantAgentError as exc:
            self.audit.append("tool_result", actor, {
                "tool": tool, "ok": False, "condition": condition,
                "result": {"error": exc.message, "fix": exc.fix}}, role=role, tool=tool)
            raise
        assert isinstance(result, AlarmActionResult)
        self.audit.append("tool_result", actor, {
            "tool": tool, "ok": True, "condition_id": result.condition_id,
            "event_id": result.event_id, "event_id_after": result.state.event_id,
            "outcome": result.outcome, "result": result.model_dump(mode="json")},
            role=role, tool=tool, equipment=result.source.split(".", 1)[0])
        return result

    async def acknowledge(self, *, actor: str, role: str, condition: str,
                          event_id: str | None = None, comment: str = "") -> AlarmActionResult:
        """Acknowledge one alarm."""
        return await self.act("acknowledge", actor=actor, role=role, condition=condition,
                              event_id=event_id, comment=comment)

    async def confirm(self, *, actor: str, role: str, condition: str,
                      event_id: str | None = None, comment: str = "") -> AlarmActionResult:
        """Confirm one acknowledged alarm."""
        return await self.act("confirm", actor=actor, role=role, condition=condition,
                              event_id=event_id, comment=comment)

    async def comment(self, *, actor: str, role: str, condition: str, comment: str,
                      event_id: str | None = None) -> AlarmActionResult:
        """Add a comment to one alarm."""
        return await self.act("comment", actor=actor, role=role, condition=condition,
                              event_id=event_id, comment=comment)

    async def shelve(self, *, actor: str, role: str, condition: str, minutes: float | None,
                     reason: str) -> ShelveRequest:
        """Ask for a timed (``minutes``) or one-shot (None) shelve: a request, executed at
        once only when the policy asks for no approval."""
        kind: ShelveKind = "one_shot" if minutes is None else "timed"
        return await self.shelving.request(actor=actor, role=role, condition=condition,
                                           kind=kind, minutes=minutes, reason=reason)

    async def unshelve(self, *, actor: str, role: str, condition: str,
                       reason: str) -> ShelveRequest:
        """Ask for an unshelve (a request; approval only where the policy asks)."""
        return await self.shelving.request(actor=actor, role=role, condition=condition,
                                           kind="unshelve", reason=reason)

