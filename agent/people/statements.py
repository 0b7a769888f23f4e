"""Signed statements: what a person decided, signed with the person's own key.

A statement is a small JSON object (its ``type`` names what it is, e.g.
``plantagent/decision/v1``); the signed bytes are its RFC 8785 canonical JSON (JCS,
:mod:`agent.audit.jcs`), so an auditor's tools can rebuild and check them. Statements
signed before JCS (Python's sorted compact JSON) still verify: for the strings and
integers statements hold, both encodings give the same bytes, and where they do not, the
older form is tried too. The hybrid
signature needs BOTH the Ed25519 and the ML-DSA-65 signature to verify, under the key
whose fingerprint the signed statement names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from agent.audit.jcs import canonicalize
from agent.audit.records import canonical_json, format_ts, parse_ts
from agent.errors import IntegrityError
from agent.people.keys import PERSON_CONTEXT
from agent.people.models import Person
from agent.vault import crypto
from agent.vault.signing import HybridSignature, SigningKeys, verify_raw


class SignedStatement(BaseModel):
    """A statement, the fingerprint of the key that signed it, and the signature."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    statement: dict[str, JsonValue]
    key: str = Field(description="Fingerprint of the signing key.")
    signature: str = Field(description="Hybrid signature (base64) over canonical JSON.")

    @property
    def person(self) -> str:
        """The person key the statement names."""
        return str(self.statement.get("person", ""))

    @property
    def signed_at(self) -> datetime:
        """When it was signed (as the statement says)."""
        return parse_ts(str(self.statement.get("signed_at", "")))


def signed_bytes(statement: dict[str, Any], fingerprint: str) -> bytes:
    """The exact bytes signed: the statement with the key's fingerprint, RFC 8785 JSON."""
    return canonicalize({"key": fingerprint, "statement": statement})


def signed_forms(statement: dict[str, Any], fingerprint: str) -> list[bytes]:
    """The bytes a statement may have been signed as: JCS, then the pre-JCS form."""
    forms = [signed_bytes(statement, fingerprint)]
    older = canonical_json({"key": fingerprint, "statement": statement})
    return forms if older == forms[0] else [*forms, older]


class PersonalSigner:
    """Signs statements as one person (holds the unlocked private key in memory)."""

    def __init__(self, person: Person, keys: SigningKeys) -> None:
        self.person = person
        self._keys = keys

    def sign(self, statement: dict[str, Any], *, now: datetime) -> SignedStatement:
        """Sign ``statement``; the person's key and the time are added to it."""
        body = {**statement, "person": self.person.key, "signed_at": format_ts(now)}
        fingerprint = self.person.current_key.fingerprint
        signature = self._keys.sign(signed_bytes(body, fingerprint), context=PERSON_CONTEXT)
        return SignedStatement(statement=body, key=fingerprint, signature=signature.to_b64())


def check_signature(person: Person, signed: SignedStatement) -> None:
    """IntegrityError unless ``signed`` is the person's, signed by one of their keys while
    it was current, and both signatures verify."""
    if signed.person != person.key:
        raise IntegrityError(f"a statement names {signed.person!r}, not {person.key!r}")
    key = person.key_by_fingerprint(signed.key)
    if key is None:
        raise IntegrityError(f"{person.name} has no key {signed.key[:16]}: the statement was "
                             "not signed by them")
    try:
        when = signed.signed_at
    except ValueError:
        raise IntegrityError("a signed statement has no valid signing time") from None
    if key.retired_at is not None and when >= key.retired_at:
        raise IntegrityError(f"{person.name}'s key {key.fingerprint[:16]} was retired at "
                             f"{key.retired_at:%Y-%m-%d %H:%M}Z before this statement")
    signature = HybridSignature.from_b64(signed.signature)
    try:
        forms = signed_forms(dict(signed.statement), signed.key)
    except (TypeError, ValueError):
        raise IntegrityError("a signed statement is not valid I-JSON (RFC 8785)") from None
    for form in forms:
        failed = verify_raw(crypto.b64d(key.ed25519), crypto.b64d(key.mldsa65), form,
                            signature, context=PERSON_CONTEXT)
        if not failed:
            break
    if failed:
        raise IntegrityError(
            f"{person.name}'s signature does not verify ({' and '.join(failed)}): the "
            "statement was altered or signed by someone else")
