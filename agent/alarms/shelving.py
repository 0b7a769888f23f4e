"""Shelving through a request: asked with a reason, checked, approved, executed, read back.

The policy check (:func:`~agent.alarms.shelve_rules.shelve_problems`) and THE approval
step (:func:`~agent.alarms.shelve_rules.approve_shelve_request`) are in
``shelve_rules.py``. :class:`ShelveService` holds the requests (the site's ``alarms``
database) and runs an approved one: claimed once, checked again against the state now,
the ``shelve_alarm`` or ``unshelve_alarm`` tool run, the result read back, every step
audited.

The gate is the same policy engine as every tool call: the role must be allowed to ask
for the tool (the engine answers ``requires-approval`` for it); a role that is not is
refused before anything is read.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from agent.alarms.requests import ShelveKind, ShelveRequest, ShelveState
from agent.alarms.shelve_rules import ShelveRefused, approve_shelve_request, shelve_problems
from agent.alarms.store import AlarmStore
from agent.audit.sink import AuditSink
from agent.errors import AlarmMethodsUnsupported, PlantAgentError, UsageError
from agent.policy.decision import PolicyGate
from agent.policy.models import Policy
from tools.context import ToolContext, utcnow
from tools.opcua.alarm_actions import AlarmActionResult
from tools.opcua.conditions import read_condition, resolve_condition
from tools.registry import ToolRegistry


class ShelveService:
    """Shelve requests of one site over one plant connection, every step audited."""

    def __init__(
        self, store: AlarmStore, policy: Policy, gate: PolicyGate, audit: AuditSink,
        context: ToolContext, registry: ToolRegistry,
        *, clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.policy = policy
        self.gate = gate
        self.audit = audit
        self.context = context
        self.registry = registry
        self.clock = clock

    # -- asking -------------------------------------------------------------------------

    async def request(
        self, *, actor: str, role: str, condition: str, kind: ShelveKind,
        minutes: float | None = None, reason: str,
    ) -> ShelveRequest:
        """A new request; executed at once when the policy asks for no approval.
        ShelveRefused (audited) when the gate or the policy check says no."""
        tool = "unshelve_alarm" if kind == "unshelve" else "shelve_alarm"
        spec = self.registry.get(tool)
        asked: dict[str, Any] = {"condition": condition, "kind": kind, "minutes": minutes,
                                 "reason": reason}
        decision = self.gate.decide(actor, role, spec, asked)
        may_ask = decision.allowed or decision.rule == "requires-approval"
        self.audit.append("policy_decision", actor, {
            "tool": tool, "args": asked, "allowed": may_ask, "reason": decision.reason,
            "rule": decision.rule}, role=role, tool=tool)
        if not may_ask:
            raise ShelveRefused(decision.reason, fix="ask someone whose role may request "
                                "shelving (plantagent policy show)")
        conn, catalog = self._conn()
        state = await resolve_condition(conn, catalog, condition)
        if state.shelving is None:
            raise AlarmMethodsUnsupported(
                f"the server reports no shelving state for {state.name}: it does not offer "
                "shelving there", fix="plantagent changed nothing")
        problems = shelve_problems(self.policy, state, kind, minutes, reason)
        now = self.clock()
        rules = self.policy.alarms.shelving
        approval = rules.unshelve_approval if kind == "unshelve" else rules.approval
        request = ShelveRequest(
            id=f"SH-{secrets.token_hex(4)}", kind=kind, condition_id=state.condition_id,
            condition=state.name, source=state.source, severity=state.severity,
            priority=self.policy.alarms.priority_of(state.severity),
            event_id=state.event_id, minutes=minutes if kind == "timed" else None,
            reason=reason.strip()[:1000], requested_by=actor, requested_role=role,
            created_at=now, expires_at=now + timedelta(minutes=rules.request_expiry_minutes),
            approval_required=approval, approver_roles=list(rules.approver_roles),
            two_person_rule=rules.two_person_rule,
        )
        if problems:
            self._audit("request_refused", actor, role, request,
                        refusals=[m for m, _ in problems])
            message, fix = problems[0]
            more = f" (and {len(problems) - 1} more: " + "; ".join(
                m for m, _ in problems[1:]) + ")" if len(problems) > 1 else ""
            raise ShelveRefused(message + more, fix=fix)
        self._audit("requested", actor, role, request)
        await asyncio.to_thread(self.store.insert, request)
        if approval:
            return request
        approved = request.model_copy(update={
            "state": "approved", "decided_by": "policy", "decided_role": None,
            "decided_at": now, "decision_note": "the policy asks for no approval"})
        self._audit("approved", actor, role, approved, by_policy=True)
        await asyncio.to_thread(self.store.transition, approved, "pending")
        return await self.execute(request.id, user=actor, role=role)

    # -- deciding -----------------------------------------------------------------------

    async def approve(self, request_id: str, *, user: str, role: str) -> ShelveRequest:
        """Approve a pending request (see :func:`approve_shelve_request`)."""
        request = await self.get(request_id)
        try:
            approved = approve_shelve_request(self.policy, request, user=user, role=role,
                                              now=self.clock())
        except ShelveRefused as exc:
            self._audit("approve_refused", user, role, request, refusal=exc.message)
            raise
        self._audit("approved", user, role, approved)
        if not await asyncio.to_thread(self.store.transition, approved, "pending"):
            raise ShelveRefused(f"{request_id} changed while it was being approved",
                                fix="look at it again: plantagent alarms requests")
        return approved

    async def deny(self, request_id: str, *, user: str, role: str,
                   note: str = "") -> ShelveRequest:
        """Refuse a pending or approved request (an approver, or the requester)."""
        request = await self.get(request_id)
        if request.state not in ("pending", "approved"):
            raise ShelveRefused(f"{request_id} is {request.state}", fix="nothing to deny")
        if role not in request.approver_roles and user != request.requested_by:
            raise ShelveRefused(f"role {role} may not deny {request_id}",
                                fix=f"ask someone with role {' or '.join(request.approver_roles)}")
        denied = request.model_copy(update={
            "state": "denied", "decided_by": user, "decided_role": role,
            "decided_at": self.clock(), "decision_note": note or None})
        self._audit("denied", user, role, denied, note=note)
        if not await asyncio.to_thread(self.store.transition, denied, request.state):
            raise ShelveRefused(f"{request_id} changed while it was being denied")
        return denied

    # -- executing ----------------------------------------------------------------------

    async def execute(self, request_id: str, *, user: str, role: str) -> ShelveRequest:
        """Run an approved request once: checked again, the tool run, read back."""
        request = await self.get(request_id)
        spec = self.policy.roles.get(role)
        if spec is None or not spec.human:
            raise ShelveRefused(f"role {role!r} is not a role of people in the policy",
                                fix="a person runs approved shelves")
        if request.state != "approved":
            raise ShelveRefused(f"{request_id} is {request.state}, not approved",
                                fix="it needs an approval first" if request.state == "pending"
                                else "ask for the shelve again")
        claimed = request.model_copy(update={"state": "executing", "executed_by": user})
        if not await asyncio.to_thread(self.store.transition, claimed, "approved"):
            raise ShelveRefused(f"{request_id} was already used", fix="ask for it again")
        conn, catalog = self._conn()
        try:
            state = await read_condition(conn, catalog, request.condition_id)
            problems = shelve_problems(self.policy, state, request.kind, request.minutes,
                                       request.reason)
            if problems:
                raise ShelveRefused(problems[0][0], fix=problems[0][1])
            result = await self._run(claimed, user, role)
        except PlantAgentError as exc:
            failed = await self._finish(claimed, "failed", failure=exc.message)
            self._audit("failed", user, role, failed, failure=exc.message)
            raise
        done = await self._finish(claimed, "executed", outcome=result.summary,
                                  read_back=result.state.model_dump(mode="json"))
        self._audit("executed", user, role, done, outcome=result.summary,
                    event_id_after=result.state.event_id)
        return done

    async def _run(self, request: ShelveRequest, user: str, role: str) -> AlarmActionResult:
        spec = self.registry.get(request.tool)
        args = request.tool_args()
        try:
            parsed = spec.args_model.model_validate(args)
        except ValidationError as exc:
            raise UsageError(f"the request's arguments are invalid: {exc.errors()[0]['msg']}",
                             fix="ask for the shelve again") from None
        self.audit.append("tool_call", user, {
            "tool": spec.name, "args": args, "request": request.id,
            "condition_id": request.condition_id, "event_id": request.event_id,
        }, role=role, tool=spec.name, equipment=request.source.split(".", 1)[0])
        try:
            result = await spec.run(self.context, parsed)
        except PlantAgentError as exc:
            self.audit.append("tool_result", user, {
                "tool": spec.name, "ok": False, "request": request.id,
                "condition_id": request.condition_id,
                "result": {"error": exc.message, "fix": exc.fix}}, role=role, tool=spec.name)
            raise
        assert isinstance(result, AlarmActionResult)
        self.audit.append("tool_result", user, {
            "tool": spec.name, "ok": True, "request": request.id,
            "condition_id": request.condition_id, "event_id": result.event_id,
            "result": result.model_dump(mode="json")}, role=role, tool=spec.name)
        return result

    async def _finish(self, request: ShelveRequest, state: ShelveState,
                      **changes: Any) -> ShelveRequest:
        done = request.model_copy(update={"state": state, "executed_at": self.clock(),
                                          **changes})
        await asyncio.to_thread(self.store.transition, done, "executing")
        return done

    # -- reading --------------------------------------------------------------------------

    async def get(self, request_id: str) -> ShelveRequest:
        """The request, expired first if due; UsageError when unknown."""
        request = await asyncio.to_thread(self.store.get, request_id.strip())
        if request is None:
            raise UsageError(f"no shelve request {request_id!r}",
                             fix="`plantagent alarms requests` lists them")
        if request.state in ("pending", "approved") and request.expires_at <= self.clock():
            expired = request.model_copy(update={"state": "expired"})
            self._audit("expired", "plantagent", None, expired)
            await asyncio.to_thread(self.store.transition, expired, request.state)
            return expired
        return request

    async def requests(self, states: set[ShelveState] | None = None) -> list[ShelveRequest]:
        """Requests, newest first (those past their expiry marked expired first)."""
        found = await asyncio.to_thread(self.store.requests, states)
        return [await self.get(r.id) if r.state in ("pending", "approved") else r
                for r in found]

    # -- helpers --------------------------------------------------------------------------

    def _conn(self) -> Any:
        if self.context.opcua is None:
            raise UsageError("no plant connection", fix="connect to the OPC UA server first")
        return self.context.opcua, self.context.catalog

    def _audit(self, event: str, actor: str, role: str | None, request: ShelveRequest,
               **extra: Any) -> None:
        payload: dict[str, Any] = {
            "event": event, "request": request.id, "kind": request.kind,
            "state": request.state, "condition": request.condition,
            "condition_id": request.condition_id, "event_id": request.event_id,
            "minutes": request.minutes, "priority": request.priority,
            "requested_by": request.requested_by, **extra}
        if event == "requested":
            payload.update(reason=request.reason, approval_required=request.approval_required,
                           approver_roles=request.approver_roles,
                           expires_at=request.expires_at.isoformat())
        self.audit.append("approval", actor, payload, role=role, tool=request.tool,
                          equipment=request.source.split(".", 1)[0])
