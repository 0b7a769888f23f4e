"""Every personal signature in an audit log, checked offline from the log alone.

The keys come from the register changes recorded in the same log (each enrolment and
re-keying carries the person's public keys), so an auditor needs only the records and
the site's public keys (which vouch for the records through the signed checkpoints).
Both halves of each hybrid signature must verify: Ed25519 and ML-DSA-65.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.audit.records import AuditRecord
from agent.errors import IntegrityError
from agent.people.keys import PERSON_CONTEXT
from agent.people.statements import signed_forms
from agent.vault import crypto
from agent.vault.signing import HybridSignature, verify_raw


@dataclass
class PersonalCheck:
    """What the check found: signatures verified, by whom, and the problems (seq, text)."""

    verified: int = 0
    signers: set[str] = field(default_factory=set)
    problems: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line for `plantagent audit verify`."""
        who = ", ".join(sorted(self.signers)) or "nobody"
        bad = f"; {len(self.problems)} INVALID" if self.problems else ""
        return f"personal signatures: {self.verified} verified (by {who}){bad}"


def check_personal_signatures(records: Iterable[AuditRecord]) -> PersonalCheck:
    """Verify every ``signed`` statement in ``records`` (oldest first) under the keys the
    log's register changes enrolled before it."""
    keys: dict[str, tuple[str, bytes, bytes]] = {}  # fingerprint -> person, ed, ml
    out = PersonalCheck()
    for record in records:
        payload: dict[str, Any] = dict(record.payload)
        signed = payload.get("signed")
        if isinstance(signed, dict):
            out_problem = _check(signed, keys) or _unbound(signed, payload)
            if out_problem:
                out.problems.append((record.seq, out_problem))
            else:
                out.verified += 1
                out.signers.add(str(signed["statement"]["person"]))
        body = payload.get("record")
        if payload.get("event") == "people" and isinstance(body, dict):
            for key in body.get("keys") or []:
                if isinstance(key, dict):
                    keys[str(key["fingerprint"])] = (
                        str(payload.get("person")), crypto.b64d(str(key["ed25519"])),
                        crypto.b64d(str(key["mldsa65"])))
    return out


def _check(signed: dict[str, Any], keys: dict[str, tuple[str, bytes, bytes]]) -> str | None:
    statement, fingerprint = signed.get("statement"), str(signed.get("key"))
    if not isinstance(statement, dict):
        return "a signed record holds no statement"
    entry = keys.get(fingerprint)
    if entry is None:
        return f"signed by key {fingerprint[:16]}, which no earlier record enrolled"
    person, ed, ml = entry
    if statement.get("person") != person:
        return f"the key of {person} signed a statement naming {statement.get('person')}"
    try:
        signature = HybridSignature.from_b64(str(signed.get("signature")))
    except IntegrityError:
        return f"the signature of {person} is malformed"
    try:
        forms = signed_forms(statement, fingerprint)
    except (TypeError, ValueError):
        return f"the statement of {person} is not valid I-JSON (RFC 8785)"
    for message in forms:
        failed = verify_raw(ed, ml, message, signature, context=PERSON_CONTEXT)
        if not failed:
            break
    if failed:
        return f"the signature of {person} does not verify ({' and '.join(failed)})"
    return None


def bundle_records(path: Path) -> list[AuditRecord]:
    """The records of an exported audit bundle (agent.audit.bundle), oldest first;
    lines that are not valid records are left to the bundle's own verification."""
    out: list[AuditRecord] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            item = json.loads(line)
            if isinstance(item, dict) and item.pop("type", None) == "record":
                out.append(AuditRecord.model_validate(item))
        except (ValueError, TypeError):
            continue
    return sorted(out, key=lambda r: r.seq)


#: Fields a signed statement shares with its record's payload: they must agree, so a
#: valid signature can not be moved onto another request or review.
_BOUND = ("request", "target_root", "first", "last", "verdict", "note", "handover",
          "handover_hash")


def _unbound(signed: dict[str, Any], payload: dict[str, Any]) -> str | None:
    statement = signed.get("statement") or {}
    for name in _BOUND:
        if name in statement and name in payload and statement[name] != payload[name]:
            return f"the signed statement's {name} is not the record's"
    return None
