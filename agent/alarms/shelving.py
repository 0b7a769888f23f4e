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
from agent.approvals.authority import (
    AuthorityRefused,
    decision_statement,
    ended_record,
    policy_digest,
    request_records,
    signed_approvers,
)
from agent.audit.log import AuditLog
from agent.audit.records import canonical_json, format_ts
from agent.errors import AlarmMethodsUnsupported, PlantAgentError, UsageError
from agent.people.identity import Acting, os_account
from agent.people.names import same_person
from agent.people.register import PeopleRegister
from agent.policy.decision import PolicyGate
from agent.policy.models import Policy
from agent.vault import crypto
from tools.context import ToolContext, utcnow
from tools.opcua.alarm_actions import AlarmActionResult
from tools.opcua.conditions import read_condition, resolve_condition
from tools.registry import ToolRegistry


class ShelveService:
    """Shelve requests of one site over one plant connection, every step audited."""

    def __init__(
        self, store: AlarmStore, policy: Policy, gate: PolicyGate, audit: AuditLog,
        context: ToolContext, registry: ToolRegistry,
        *, people: PeopleRegister | None = None, clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.people = people
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
            requested_account=os_account(),
            created_at=now, expires_at=now + timedelta(minutes=rules.request_expiry_minutes),
            approval_required=approval, approver_roles=list(rules.approver_roles),
            two_person_rule=rules.two_person_rule,
            policy_digest=policy_digest(self.policy),
        )
        request = request.model_copy(update={"action_digest": shelve_digest(request)})
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
        return await self._execute(approved, actor, role, signed=None)

    # -- deciding -----------------------------------------------------------------------

    async def approve(self, request_id: str, actor: Acting) -> ShelveRequest:
        """Approve a pending request as the enrolled person ``actor``, signed with their
        key, through the same decision statements as plant writes (see
        :func:`approve_shelve_request` for who may)."""
        request = await self.get(request_id)
        user, role = actor.name, actor.role
        try:
            approved = approve_shelve_request(self.policy, request, user=user, role=role,
                                              now=self.clock())
            if request.two_person_rule and (any(
                    same_person(n, request.requested_by)
                    for n in (actor.key, actor.person.os_account)) or (
                    self.policy.people.match_os_account
                    and request.requested_account == actor.person.os_account)):
                raise ShelveRefused(f"{user} asked for {request.id} and may not approve it "
                                    "too (two-person rule)", fix="a second person must approve it")
        except ShelveRefused as exc:
            self._audit("approve_refused", user, role, request, refusal=exc.message)
            raise
        # Off the loop: signing is CPU work, and a signer over the site service's socket
        # waits for the person's own client.
        signed = await asyncio.to_thread(
            actor.signer.sign, decision_statement(request, "approve", role), now=self.clock())
        self._audit("approved", user, role, approved, signed=signed.model_dump(mode="json"))
        if not await asyncio.to_thread(self.store.transition, approved, "pending"):
            raise ShelveRefused(f"{request_id} changed while it was being approved",
                                fix="look at it again: plantagent alarms requests")
        return approved

    async def deny(self, request_id: str, actor: Acting, *, note: str = "") -> ShelveRequest:
        """Refuse a pending or approved request (an approver), or withdraw it (the
        requester): a signed decision."""
        request = await self.get(request_id)
        user, role = actor.name, actor.role
        if request.state not in ("pending", "approved"):
            raise ShelveRefused(f"{request_id} is {request.state}", fix="nothing to deny")
        requester = any(same_person(n, request.requested_by)
                        for n in (actor.key, actor.person.os_account))
        if role not in request.approver_roles and not requester:
            raise ShelveRefused(f"role {role} may not deny {request_id}",
                                fix=f"ask someone with role {' or '.join(request.approver_roles)}")
        verb = "cancel" if requester and role not in request.approver_roles else "deny"
        signed = await asyncio.to_thread(
            actor.signer.sign, decision_statement(request, verb, role), now=self.clock())
        denied = request.model_copy(update={
            "state": "denied", "decided_by": user, "decided_role": role,
            "decided_at": self.clock(), "decision_note": note or None})
        self._audit("cancelled" if verb == "cancel" else "denied", user, role, denied,
                    note=note, signed=signed.model_dump(mode="json"))
        if not await asyncio.to_thread(self.store.transition, denied, request.state):
            raise ShelveRefused(f"{request_id} changed while it was being denied")
        return denied

    # -- executing ----------------------------------------------------------------------

    async def execute(self, request_id: str, actor: Acting) -> ShelveRequest:
        """Run an approved request once as ``actor``: the audit log must hold the request
        and a valid signed approval (or the policy's own, when it asks for none), then
        it is checked again, the tool run, read back."""
        request = await self.get(request_id)
        user, role = actor.name, actor.role
        spec = self.policy.roles.get(role)
        if spec is None or not spec.human:
            raise ShelveRefused(f"role {role!r} is not a role of people in the policy",
                                fix="a person runs approved shelves")
        if request.state != "approved":
            raise ShelveRefused(f"{request_id} is {request.state}, not approved",
                                fix="it needs an approval first" if request.state == "pending"
                                else "ask for the shelve again")
        try:
            await asyncio.to_thread(self._authority, request)
        except AuthorityRefused as exc:
            self._audit("execute_refused", user, role, request, refusal=exc.message)
            raise ShelveRefused(exc.message, fix=exc.fix) from None
        signed = await asyncio.to_thread(
            actor.signer.sign, decision_statement(request, "execute", role), now=self.clock())
        return await self._execute(request, user, role, signed=signed.model_dump(mode="json"))

    def _authority(self, request: ShelveRequest) -> None:
        """AuthorityRefused unless the audit log authorises running ``request``."""
        records = request_records(self.audit, request.id)
        requested = [r for r in records if r.payload.get("event") == "requested"]
        if len(requested) != 1 or requested[0].payload.get("action_digest") != (
                shelve_digest(request)) or request.action_digest != shelve_digest(request):
            raise AuthorityRefused(
                f"{request.id} as stored differs from the request in the audit log",
                fix="ask for the shelve again")
        ended = ended_record(records)
        if ended is not None:
            raise AuthorityRefused(
                f"the audit log shows {request.id} was already {ended.payload['event']}: "
                "an approval works once", fix="ask for the shelve again")
        by_policy = any(r.payload.get("event") == "approved" and r.payload.get("by_policy")
                        for r in records)
        if by_policy and not self.policy.alarms.shelving.approval:
            return
        if self.people is None:
            raise AuthorityRefused("this site has no register of people to check approvals "
                                   "against", fix="open the site through SiteRuntime")
        roles = set(request.approver_roles) & set(self.policy.alarms.shelving.approver_roles)
        requester = request.requested_by if (
            request.two_person_rule or self.policy.alarms.shelving.two_person_rule) else None
        if not signed_approvers(self.people, request, records, roles, requester):
            raise AuthorityRefused(
                f"{request.id} has no valid signed approval in the audit log",
                fix="an enrolled approver approves it: plantagent alarms approve ID")

    async def _execute(self, request: ShelveRequest, user: str, role: str,
                       signed: dict[str, Any] | None) -> ShelveRequest:
        claimed = request.model_copy(update={"state": "executing", "executed_by": user})
        # The record that makes this approval used, before the state changes (fail closed).
        self._audit("executing", user, role, claimed, signed=signed)
        if not await asyncio.to_thread(self.store.transition, claimed, "approved"):
            raise ShelveRefused(f"{request.id} was already used", fix="ask for it again")
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
            payload.update(action_digest=request.action_digest,
                           policy_digest=request.policy_digest,
                           reason=request.reason, approval_required=request.approval_required,
                           approver_roles=request.approver_roles,
                           expires_at=request.expires_at.isoformat())
        self.audit.append("approval", actor, payload, role=role, tool=request.tool,
                          equipment=request.source.split(".", 1)[0])


def shelve_digest(request: ShelveRequest) -> str:
    """SHA-256 of what a shelve request does (canonical JSON): what approvals sign."""
    return crypto.sha256_hex(canonical_json({
        "id": request.id, "kind": request.kind, "condition_id": request.condition_id,
        "condition": request.condition, "event_id": request.event_id,
        "minutes": request.minutes, "requested_by": request.requested_by,
        "requested_account": request.requested_account,
        "approver_roles": request.approver_roles, "two_person_rule": request.two_person_rule,
        "approval_required": request.approval_required,
        "created_at": format_ts(request.created_at), "expires_at": format_ts(request.expires_at),
    }))
