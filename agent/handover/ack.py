"""Signed handover acknowledgements: the incoming shift lead takes over, in their own name.

An acknowledgement is a statement ``plantagent/handover-ack/v1`` naming the handover
record (its seq and hash, so it cannot be moved to another handover) and the role it was
given in, signed with the person's own key (agent.people). It is recorded in the audit
log (kind ``handover``, event ``acknowledged``), where `plantagent audit verify` and the
auditor's checks verify it like every personal signature, and :func:`acknowledgements`
verifies it against the register like an approval: an enrolled, enabled person in a
role that takes over a shift. The author of the handover cannot acknowledge it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent.audit.log import AuditLog
from agent.audit.reader import AuditReader
from agent.audit.records import AuditRecord
from agent.errors import IntegrityError, PolicyDenied, UsageError
from agent.people.identity import Acting
from agent.people.names import person_key
from agent.people.register import PeopleRegister
from agent.people.statements import SignedStatement, check_signature

ACK_TYPE = "plantagent/handover-ack/v1"
ACK_EVENT = "acknowledged"
#: A handover cancelled while it waited for the model or was being written (the site
#: service records it, as it records a cancelled question): not a handover.
CANCELLED_EVENT = "cancelled"
#: Roles that take over a shift (a site's policy may name an ``operator`` role).
ACK_ROLES = ("shift_lead", "operator")


@dataclass(frozen=True)
class Acknowledgement:
    """A verified acknowledgement of one handover: ``person`` is the signer's key (what
    the signed statement and the audit name), ``name`` their enrolled name (what people
    read)."""

    handover_seq: int
    record_seq: int
    person: str
    role: str
    signed_at: datetime
    note: str
    name: str = ""

    @property
    def shown(self) -> str:
        """The enrolled name (the key where an older record gives none)."""
        return self.name or self.person


def _handovers(audit: AuditReader) -> list[AuditRecord]:
    """The handovers written (a record with an ``event`` is an acknowledgement or a
    cancellation, not a handover)."""
    return [r for r in audit.search(kind="handover") if "event" not in r.payload]


def find_handover(audit: AuditReader, seq: int | None = None) -> AuditRecord:
    """The handover record ``seq`` (default: the newest); UsageError naming the fix."""
    if seq is not None:
        found = audit.search(kind="handover", seq_from=seq, seq_to=seq)
        if not found or "event" in found[0].payload:
            raise UsageError(f"audit record {seq} is not a handover",
                             fix="give the seq `plantagent audit search --kind handover` shows")
        return found[0]
    handovers = _handovers(audit)
    if not handovers:
        raise UsageError("the audit log holds no handover to acknowledge",
                         fix="the outgoing shift lead writes one: `plantagent handover`")
    return handovers[-1]


def ack_statement(handover: AuditRecord, role: str, note: str) -> dict[str, Any]:
    """What the incoming person signs."""
    return {"type": ACK_TYPE, "handover": handover.seq, "handover_hash": handover.hash,
            "role": role, "note": note}


def acknowledge(audit: AuditLog, people: PeopleRegister, actor: Acting,
                handover: AuditRecord, note: str = "") -> AuditRecord:
    """Sign and record ``actor``'s acknowledgement of ``handover``; PolicyDenied when
    the person may not take over the shift or already did."""
    _may_acknowledge(people, actor.person.key, actor.role, handover)
    for done in acknowledgements(audit, people, handover):
        if done.person == actor.key:
            raise PolicyDenied(f"{actor.name} already acknowledged handover {handover.seq}",
                               fix="nothing to do")
    signed = actor.signer.sign(ack_statement(handover, actor.role, note), now=audit.clock())
    payload = {"event": ACK_EVENT, "handover": handover.seq,
               "handover_hash": handover.hash, "note": note,
               "signed": signed.model_dump(mode="json")}
    return audit.append("handover", actor.name, payload, role=actor.role)


def _may_acknowledge(people: PeopleRegister, who: str, role: str,
                     handover: AuditRecord) -> None:
    person = people.find(who)
    if person is None or person.disabled:
        raise PolicyDenied(f"{who} is not an enrolled, enabled person",
                           fix="an administrator enrols the incoming shift lead")
    if role not in ACK_ROLES or role not in person.roles:
        raise PolicyDenied(
            f"{person.name} acknowledges as {role!r}: only an enrolled "
            f"{' or '.join(ACK_ROLES)} takes over a shift",
            fix="acknowledge as the incoming shift lead (--role shift_lead), or ask an "
            "administrator for that role")
    if person_key(handover.actor) == person.key:
        raise PolicyDenied(f"{person.name} wrote handover {handover.seq}",
                           fix="the incoming shift lead acknowledges it, not its author")


def acknowledgements(audit: AuditReader, people: PeopleRegister,
                     handover: AuditRecord) -> list[Acknowledgement]:
    """The verified acknowledgements of ``handover``; IntegrityError naming the record
    when one does not verify (a forged, moved or altered acknowledgement)."""
    out: list[Acknowledgement] = []
    for record in audit.search(kind="handover", seq_from=handover.seq + 1):
        p = record.payload
        if p.get("event") != ACK_EVENT or p.get("handover") != handover.seq:
            continue
        try:
            signed = SignedStatement.model_validate(p.get("signed"))
        except ValueError:
            raise IntegrityError(f"audit record {record.seq}: an acknowledgement without a "
                                 "valid signed statement") from None
        statement = signed.statement
        role = str(statement.get("role"))
        expected = {**ack_statement(handover, role, str(p.get("note", ""))),
                    "person": signed.person, "signed_at": statement.get("signed_at")}
        if "nonce" in statement:  # signed over the site service's socket (agent/serve)
            expected["nonce"] = statement["nonce"]
        if statement != expected:
            raise IntegrityError(f"audit record {record.seq}: the signed acknowledgement is "
                                 f"not of handover {handover.seq} as recorded")
        person = people.find(signed.person)
        if person is None:
            raise IntegrityError(f"audit record {record.seq}: acknowledged by "
                                 f"{signed.person!r}, who is not enrolled")
        check_signature(person, signed)
        try:
            _may_acknowledge(people, person.key, role, handover)
        except PolicyDenied as exc:
            if not person.disabled:  # disabled later: the acknowledgement stays valid
                raise IntegrityError(f"audit record {record.seq}: {exc.message}") from None
        out.append(Acknowledgement(handover.seq, record.seq, person.key, role,
                                   signed.signed_at, str(p.get("note", "")), person.name))
    return out
