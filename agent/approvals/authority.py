"""What authorises a plant write: the audit log, never the approvals database alone.

Before the executor writes, :func:`check_authority` reads every approval record of the
request from the hash-chained audit log and requires:

- exactly one ``requested`` record, whose action digest is the digest of the request as
  stored now (a row whose node, value or bounds were changed is refused);
- no ``denied``, ``cancelled`` or ``executing`` record (a copied-back approvals.db can not
  make a used approval work again);
- signed ``approved`` records from enough DISTINCT enrolled, enabled people, each
  signature verifying under the person's key, binding this request, this action digest,
  the policy digest and the expiry, in a role the person holds and the write rule lists,
  none of them the requester under the two-person rule. A person approving in two roles
  counts once; a person disabled after approving, or whose signing key was retired
  (rotate-key) since, counts not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from agent.approvals.models import ApprovalRequest
from agent.audit.reader import AuditReader
from agent.audit.records import AuditRecord, canonical_json, format_ts
from agent.errors import IntegrityError, PlantAgentError, UsageError
from agent.people.names import same_person
from agent.people.register import PeopleRegister
from agent.people.statements import SignedStatement, check_signature
from agent.policy.models import Policy
from agent.vault import crypto

DECISION_TYPE = "plantagent/decision/v1"


def policy_digest(policy: Policy) -> str:
    """SHA-256 of the effective policy (canonical JSON)."""
    return crypto.sha256_hex(canonical_json(policy.model_dump(mode="json")))


def action_digest(request: ApprovalRequest) -> str:
    """SHA-256 of what the request does: the exact node, value, bounds, requester, expiry
    and approval terms (canonical JSON)."""
    target = request.target
    return crypto.sha256_hex(canonical_json({
        "id": request.id, "kind": request.kind, "tag": target.tag, "node_id": target.node_id,
        "namespace_uri": target.namespace_uri, "browse_path": target.browse_path,
        "value": request.value, "rule": request.rule, "bounds": request.bounds,
        "eu_range": [target.eu_low, target.eu_high], "requested_by": request.requested_by,
        "requested_account": request.requested_account,
        "approver_roles": request.approver_roles, "two_person_rule": request.two_person_rule,
        "approvals_required": request.approvals_required,
        "created_at": format_ts(request.created_at), "expires_at": format_ts(request.expires_at),
    }))


class Decidable(Protocol):
    """What a person decides on: a plant write or an alarm shelve request."""

    @property
    def id(self) -> str: ...
    @property
    def action_digest(self) -> str: ...
    @property
    def policy_digest(self) -> str: ...
    @property
    def expires_at(self) -> datetime: ...


def decision_statement(request: Decidable, verb: str, role: str) -> dict[str, Any]:
    """The statement a person signs to decide on ``request``."""
    return {
        "type": DECISION_TYPE, "verb": verb, "request": request.id, "role": role,
        "action_digest": request.action_digest, "policy_digest": request.policy_digest,
        "expires_at": format_ts(request.expires_at),
    }


class AuthorityRefused(PlantAgentError):
    """The audit log does not authorise the write (the message says what is missing)."""

    exit_code = 2


def request_records(audit: AuditReader, request_id: str) -> list[AuditRecord]:
    """The audit log's approval records of one request, oldest first."""
    return [r for r in audit.search(kind="approval", text=request_id)
            if r.payload.get("request") == request_id]


def check_statement(people: PeopleRegister, request: Decidable, verb: str,
                    signed_json: Any, *, in_force: bool = False) -> tuple[str, str]:
    """(person key, role) of a valid signed decision ``verb`` on ``request``;
    AuthorityRefused naming what is wrong otherwise. ``in_force``: the signing key must
    still be the person's current one (what authorises a write now)."""
    try:
        signed = SignedStatement.model_validate(signed_json)
    except ValueError:
        raise AuthorityRefused(f"a {verb} record of {request.id} carries no valid signed "
                               "statement", fix="approve it again with your own key") from None
    body = signed.statement
    expected = decision_statement(request, verb, str(body.get("role")))
    wrong = [k for k, v in expected.items() if body.get(k) != v]
    if wrong:
        raise AuthorityRefused(
            f"the signed {verb} of {request.id} by {signed.person} does not bind this "
            f"request ({', '.join(wrong)} differ)", fix="propose and approve it again")
    try:
        person = people.get(signed.person)
        check_signature(person, signed)
    except (IntegrityError, UsageError) as exc:
        raise AuthorityRefused(f"the {verb} of {request.id} by {signed.person} is not "
                               f"valid: {exc.message}", fix="approve it again") from None
    if person.disabled:
        raise AuthorityRefused(f"{person.name}, who signed the {verb} of {request.id}, has "
                               "been disabled since", fix="another approver must approve it")
    key = person.key_by_fingerprint(signed.key)
    if in_force and key is not None and key.retired_at is not None:
        # A key is retired when it may be in other hands: what it signed stays on record,
        # but it authorises nothing more.
        raise AuthorityRefused(
            f"{person.name}'s key {key.fingerprint[:16]}, which signed the {verb} of "
            f"{request.id}, was retired at {key.retired_at:%Y-%m-%d %H:%M}Z (rotate-key): "
            "an approval counts only while its key is in force",
            fix="another approver approves it, or propose the change again")
    role = str(body["role"])
    if role not in person.roles:
        raise AuthorityRefused(f"{person.name} no longer holds the role {role}",
                               fix="another approver must approve it")
    return person.key, role


def check_authority(audit: AuditReader, people: PeopleRegister, policy: Policy,
                    request: ApprovalRequest, approver_roles: set[str]) -> list[str]:
    """The distinct people whose approvals authorise ``request`` (see the module doc);
    AuthorityRefused when the audit log does not authorise it."""
    records = request_records(audit, request.id)
    requested = [r for r in records if r.payload.get("event") == "requested"]
    if len(requested) != 1:
        raise AuthorityRefused(
            f"the audit log holds {len(requested)} proposals of {request.id}: the stored "
            "request was not made through plantagent", fix="propose the change again")
    if requested[0].payload.get("action_digest") != action_digest(request) or (
            request.action_digest != action_digest(request)):
        raise AuthorityRefused(
            f"{request.id} as stored differs from the request in the audit log (node, value, "
            "bounds or terms were changed)", fix="propose the change again")
    if request.policy_digest != requested[0].payload.get("policy_digest"):
        raise AuthorityRefused(f"{request.id} names another policy than its proposal",
                               fix="propose the change again")
    ended = ended_record(records)
    if ended is not None:
        raise AuthorityRefused(
            f"the audit log shows {request.id} was already {ended.payload['event']} "
            f"(record {ended.seq}): an approval works once",
            fix="propose the change again if it is still needed")
    approvers = signed_approvers(people, request, records, approver_roles,
                                 request.requested_by if request.two_person_rule else None)
    if len(approvers) < request.approvals_required:
        raise AuthorityRefused(
            f"{request.id} has {len(approvers)} valid signed approval(s) in the audit log; "
            f"it needs {request.approvals_required} from distinct people",
            fix="approve it with `plantagent approve ID` as an enrolled approver")
    return approvers


def signed_approvers(people: PeopleRegister, request: Decidable, records: Iterable[AuditRecord],
                     approver_roles: set[str], requester: str | None) -> list[str]:
    """The distinct people whose signed ``approved`` records among ``records`` are valid
    for ``request`` in one of ``approver_roles`` (never ``requester``, when given); a
    person approving in two roles counts once. AuthorityRefused on an invalid one."""
    approvers: list[str] = []
    for record in records:
        if record.payload.get("event") != "approved" or record.payload.get("by_policy"):
            continue
        key, role = check_statement(people, request, "approve", record.payload.get("signed"),
                                    in_force=True)
        if role not in approver_roles:
            continue
        if requester is not None and same_person(key, requester):
            continue
        if key not in approvers:
            approvers.append(key)
    return approvers


def ended_record(records: Iterable[AuditRecord]) -> AuditRecord | None:
    """The first record that ends a request's use (denied, cancelled, executing)."""
    return next((r for r in records if r.payload.get("event") in (
        "denied", "cancelled", "executing")), None)
