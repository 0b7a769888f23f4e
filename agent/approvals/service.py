"""The approval workflow: propose, approve, deny, expire, and claim for execution.

Who may do what is the policy's call, checked here on every step:

- a proposal must name an explicit number for a node on the write allowlist, within the
  rule's bounds and the node's EURange;
- only a person (a role with ``human = true``) whose role the write rule lists may approve,
  and, under the two-person rule, never the person who asked;
- a request is usable once: approve and execute are compare-and-set state changes;
- past ``expires_at`` nothing can be approved or executed.

The model has no path here: no tool approves, and the approve path takes the approver's
name and role from the person's command line or UI, never from model output. Every step,
refusals included, is written to the audit log BEFORE it takes effect (fail closed).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from agent.approvals.authority import (
    AuthorityRefused,
    action_digest,
    check_authority,
    decision_statement,
    policy_digest,
)
from agent.approvals.models import ApprovalRequest, ApprovalState, SignedDecision, WriteTarget
from agent.approvals.refusals import ApprovalRefused, approval_problem, state_problem
from agent.approvals.store import ApprovalStore
from agent.audit.errors import AuditWriteError
from agent.audit.log import AuditLog
from agent.audit.records import AuditRecord
from agent.errors import PlantAgentError, UsageError, WriteRefused
from agent.people.identity import Acting, os_account
from agent.people.names import same_person
from agent.people.register import PeopleRegister
from agent.policy.decision import ChangeDecision
from agent.policy.engine import PROPOSE_TOOL, PolicyEngine
from agent.policy.models import Policy
from agent.policy.writes import check_bounds, check_value, write_terms
from tools.context import utcnow
from tools.opcua.catalog import Catalog
from tools.opcua.models import TagInfo


def target_of(tag: TagInfo) -> WriteTarget:
    """The exact node behind a catalog tag."""
    return WriteTarget(
        tag=tag.name, node_id=tag.node_id, namespace_uri=tag.namespace_uri,
        browse_path=list(tag.browse_path), unit=tag.unit, eu_low=tag.eu_low, eu_high=tag.eu_high,
    )


class ApprovalService:
    """Approval requests of one site, checked against the policy, every step audited."""

    def __init__(
        self,
        store: ApprovalStore,
        policy: Policy,
        audit: AuditLog,
        *,
        people: PeopleRegister | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.policy = policy
        self.audit = audit
        self.people = people
        self.clock = clock

    # -- proposing ----------------------------------------------------------------------

    def propose(
        self,
        *,
        actor: str,
        role: str,
        target: WriteTarget,
        value: object,
        reason: str,
        evidence_ids: Sequence[str] = (),
        undo_of: str | None = None,
    ) -> ApprovalRequest:
        """A new pending request; WriteRefused (a ToolError) when the policy forbids it."""
        if role not in self.policy.roles:
            raise WriteRefused(f"role {role!r} is not defined in the policy")
        if PolicyEngine(self.policy).tool_allowed(role, PROPOSE_TOOL) is None:
            raise WriteRefused(f"role {role} may not propose plant writes",
                               fix="ask a shift lead or an engineer to propose the change")
        number = check_value(value)
        terms = write_terms(self.policy, target.namespace_uri, target.browse_path)
        check_bounds(terms, number, current=None, eu_low=target.eu_low, eu_high=target.eu_high)
        if not reason.strip():
            raise WriteRefused("a proposal needs a reason", fix="say why the change is needed")
        now = self.clock()
        request = ApprovalRequest(
            id=f"AP-{secrets.token_hex(4)}",
            target=target,
            value=number,
            rule=terms.rule.name,
            requested_by=actor,
            requested_role=role,
            requested_account=os_account(),
            reason=reason.strip()[:1000],
            evidence_ids=list(evidence_ids),
            approver_roles=list(terms.approver_roles),
            two_person_rule=terms.two_person_rule,
            approvals_required=terms.approvals_required,
            bounds={"min": terms.rule.min, "max": terms.rule.max,
                    "max_step": terms.rule.max_step},
            policy_digest=policy_digest(self.policy),
            created_at=now,
            expires_at=now + terms.expiry,
            undo_of=undo_of,
        )
        request = request.model_copy(update={"action_digest": action_digest(request)})
        record = self._audit("requested", actor, role, request, rule=terms.rule.name)
        with self._compensating(record, "requested", actor, role, request):
            self.store.insert(request)
        return request

    def propose_for_tag(
        self, *, actor: str, role: str, catalog: Catalog, tag: str, value: object,
        reason: str, evidence_ids: Sequence[str] = (),
    ) -> ApprovalRequest:
        """:meth:`propose` for a tag name of the catalog (UnknownNameError if absent)."""
        return self.propose(
            actor=actor, role=role, target=target_of(catalog.tag(tag)), value=value,
            reason=reason, evidence_ids=evidence_ids,
        )

    def propose_change(
        self, decision: ChangeDecision, *, actor: str, role: str, reason: str,
        evidence_ids: Sequence[str] = (),
    ) -> ApprovalRequest:
        """The one route to a proposal: a pending request for a change the policy engine
        allowed (``PolicyEngine.decide_change``). WriteRefused when the decision did not
        allow it; the request is checked again like any proposal."""
        if not decision.allowed or decision.tag is None or decision.value is None:
            raise WriteRefused(
                f"the policy did not allow this change: {decision.reason}",
                fix="propose only after an allowing decision",
            )
        return self.propose(
            actor=actor, role=role, target=target_of(decision.tag), value=decision.value,
            reason=reason, evidence_ids=evidence_ids,
        )

    # -- deciding -----------------------------------------------------------------------

    def approve(self, request_id: str, actor: Acting) -> ApprovalRequest:
        """Approve a pending request as the enrolled person ``actor``, signed with their
        key; ApprovalRefused otherwise. The request becomes ``approved`` once enough
        distinct people approved it (``approvals_required``)."""
        request = self._current(request_id)
        user, role = actor.name, actor.role
        problem = approval_problem(self.policy, request, user, role,
                                   (actor.person.os_account, actor.person.name),
                                   account=actor.person.os_account)
        if problem is None and any(a.person == actor.key for a in request.approvals):
            problem = (f"{actor.person.name} already approved {request.id}; one person "
                       "counts once, whatever their roles", "a different person must approve")
        if problem:
            self._audit("approve_refused", user, role, request, refusal=problem)
            raise ApprovalRefused(problem[0], fix=problem[1])
        decision = self._sign(request, actor, "approve")
        approvals = [*request.approvals, decision]
        done = len({a.person for a in approvals}) >= request.approvals_required
        approved = request.model_copy(update={
            "state": "approved" if done else "pending", "approvals": approvals,
            "decided_by": user, "decided_role": role, "decided_at": decision.at,
        })
        record = self._audit("approved", user, role, approved, signed=decision.signed)
        with self._compensating(record, "approved", user, role, approved):
            if not self.store.transition(approved, "pending"):
                raise ApprovalRefused(
                    f"{request_id} changed while it was being approved",
                    fix=f"look at it again: plantagent approvals show {request_id}",
                )
        return approved

    def deny(self, request_id: str, actor: Acting, *, note: str = "") -> ApprovalRequest:
        """Refuse a pending or approved request (approvers), or withdraw it (the
        requester: a signed ``cancel``)."""
        request = self._current(request_id)
        user, role = actor.name, actor.role
        if request.state not in ("pending", "approved"):
            problem = state_problem(request, "deny")
            raise ApprovalRefused(problem[0], fix=problem[1])
        requester = any(same_person(n, request.requested_by)
                        for n in (user, actor.person.os_account, actor.person.name))
        if role not in request.approver_roles and not requester:
            raise ApprovalRefused(
                f"role {role} may not deny {request_id}",
                fix=f"ask someone with role {' or '.join(request.approver_roles)}",
            )
        verb = "cancel" if requester and role not in request.approver_roles else "deny"
        decision = self._sign(request, actor, verb)
        denied = request.model_copy(update={
            "state": "denied", "decided_by": user, "decided_role": role,
            "decided_at": decision.at, "decision_note": note or None,
        })
        record = self._audit("cancelled" if verb == "cancel" else "denied", user, role,
                             denied, note=note, signed=decision.signed)
        with self._compensating(record, "denied", user, role, denied):
            if not self.store.transition(denied, request.state):
                raise ApprovalRefused(f"{request_id} changed while it was being denied",
                                      fix=f"look at it again: plantagent approvals show "
                                      f"{request_id}")
        return denied

    def claim(self, request_id: str, actor: Acting) -> ApprovalRequest:
        """Take an approved request for execution, once: approved -> executing. The
        audit log must authorise it (agent.approvals.authority), whatever the row says."""
        request = self._current(request_id)
        user, role = actor.name, actor.role
        spec = self.policy.roles.get(role)
        problem: tuple[str, str] | None = None
        if spec is None or not spec.human:
            problem = (f"role {role!r} is not a role of people in the policy",
                       "a person runs approved writes, e.g. plantagent approvals execute ID")
        elif PolicyEngine(self.policy).tool_allowed(role, PROPOSE_TOOL) is None and (
                role not in request.approver_roles):
            problem = (f"role {role} may not run plant writes",
                       f"ask someone with role {' or '.join(request.approver_roles)}")
        elif request.state != "approved":
            problem = state_problem(request, "execute")
        if problem:
            self._audit("execute_refused", user, role, request, refusal=problem)
            raise ApprovalRefused(problem[0], fix=problem[1])
        try:
            approvers = self._authority(request)
        except AuthorityRefused as exc:
            self._audit("execute_refused", user, role, request, refusal=[exc.message, exc.fix])
            raise ApprovalRefused(exc.message, fix=exc.fix) from None
        decision = self._sign(request, actor, "execute")
        claimed = request.model_copy(update={"state": "executing", "executed_by": user})
        # The record that makes this approval used, before the state changes (fail closed).
        self._audit("executing", user, role, claimed, signed=decision.signed,
                    approved_by=approvers)
        if not self.store.transition(claimed, "approved"):
            raise ApprovalRefused(f"{request_id} was already used", fix="propose it again")
        return claimed

    def _authority(self, request: ApprovalRequest) -> list[str]:
        if self.people is None:
            raise AuthorityRefused("this site has no register of people to check approvals "
                                   "against", fix="open the site through SiteRuntime")
        roles = set(request.approver_roles)
        try:
            terms = write_terms(self.policy, request.target.namespace_uri,
                                request.target.browse_path)
            roles &= set(terms.approver_roles)
        except WriteRefused:
            pass  # the executor refuses the write itself, and marks the request failed
        return check_authority(self.audit, self.people, self.policy, request, roles)

    def _sign(self, request: ApprovalRequest, actor: Acting, verb: str) -> SignedDecision:
        now = self.clock()
        signed = actor.signer.sign(decision_statement(request, verb, actor.role), now=now)
        return SignedDecision(person=actor.key, role=actor.role, verb=verb,
                              at=now, signed=signed.model_dump(mode="json"))

    def finish(self, request: ApprovalRequest, **changes: Any) -> ApprovalRequest:
        """Store the outcome of a claimed request (state executed or failed)."""
        done = request.model_copy(update=changes)
        if not self.store.transition(done, "executing"):
            raise ApprovalRefused(f"{request.id} was not executing")
        return done

    # -- reading --------------------------------------------------------------------------

    def get(self, request_id: str) -> ApprovalRequest:
        """The request with this id, expired first if due; UsageError if unknown."""
        return self._current(request_id)

    def requests(self, states: set[ApprovalState] | None = None) -> list[ApprovalRequest]:
        """All requests (newest first), expiring those past due first."""
        self.expire_due()
        return self.store.requests(states)

    def expire_due(self) -> list[ApprovalRequest]:
        """Mark pending and approved requests past their expiry as expired."""
        now = self.clock()
        expired = []
        for request in self.store.requests({"pending", "approved"}):
            if request.expires_at <= now:
                done = request.model_copy(update={"state": "expired"})
                record = self._audit("expired", "plantagent", None, done)
                with self._compensating(record, "expired", "plantagent", None, done):
                    changed = self.store.transition(done, request.state)
                if changed:
                    expired.append(done)
                else:
                    self.compensate(record, "expired", "plantagent", None, done,
                                     "it changed meanwhile")
        return expired

    def _current(self, request_id: str) -> ApprovalRequest:
        request = self.store.get(request_id.strip())
        if request is None:
            raise UsageError(
                f"no approval request {request_id!r}",
                fix="`plantagent approvals list` shows the requests",
            )
        if request.state in ("pending", "approved") and request.expires_at <= self.clock():
            done = request.model_copy(update={"state": "expired"})
            record = self._audit("expired", "plantagent", None, done)
            with self._compensating(record, "expired", "plantagent", None, done):
                changed = self.store.transition(done, request.state)
            if not changed:
                self.compensate(record, "expired", "plantagent", None, done,
                                 "it changed meanwhile")
                current = self.store.get(request.id)
                return current if current is not None else done
            return done
        return request

    @contextmanager
    def _compensating(self, record: AuditRecord, event: str, actor: str, role: str | None,
                      request: ApprovalRequest) -> Iterator[None]:
        """The store write that makes ``record`` true: if it fails (a full disk, a
        damaged file, someone else first), a compensating record says the audit log's
        ``record`` did not take effect, so the two stores never disagree silently."""
        try:
            yield
        except PlantAgentError as exc:
            self.compensate(record, event, actor, role, request, exc.message, exc)
            raise

    def compensate(self, record: AuditRecord, event: str, actor: str, role: str | None,
                    request: ApprovalRequest, why: str,
                    exc: BaseException | None = None) -> None:
        """Record that ``record`` (an approval step in the audit log) did not take effect
        in the approvals store, and why (best effort: a note on ``exc`` when even this
        cannot be written)."""
        stored = self.store_state(request.id)
        try:
            self.audit.append("approval", actor, {
                "event": f"{event}_not_stored", "request": request.id,
                "compensates": record.seq, "stored_state": stored, "error": why,
            }, role=role, tool=PROPOSE_TOOL, equipment=request.target.tag.split(".", 1)[0])
        except AuditWriteError as failed:
            if exc is not None:
                exc.add_note(f"the compensating audit record could not be written: {failed}")

    def store_state(self, request_id: str) -> str | None:
        """The state the approvals store holds for a request (None: none, or unreadable)."""
        try:
            current = self.store.get(request_id)
        except PlantAgentError:
            return None
        return None if current is None else current.state

    def _audit(
        self, event: str, actor: str, role: str | None, request: ApprovalRequest, **extra: Any
    ) -> AuditRecord:
        payload: dict[str, Any] = {
            "event": event, "request": request.id, "state": request.state,
            "tag": request.target.tag, "node_id": request.target.node_id,
            "browse_path": request.target.browse_path, "value": request.value,
            "requested_by": request.requested_by, "expires_at": request.expires_at.isoformat(),
            **extra,
        }
        if event == "requested":
            payload.update(reason=request.reason, evidence_ids=request.evidence_ids,
                           approver_roles=request.approver_roles, undo_of=request.undo_of,
                           action_digest=request.action_digest,
                           policy_digest=request.policy_digest,
                           approvals_required=request.approvals_required)
        return self.audit.append("approval", actor, payload, role=role, tool=PROPOSE_TOOL,
                                 equipment=request.target.tag.split(".", 1)[0])

