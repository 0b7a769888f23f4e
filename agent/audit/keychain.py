"""Rotation of the audit signing key, and the chain of keys a log was signed with.

A rotation is itself an audit record (``key_change``, event ``audit_key_rotated``)
whose payload holds both public key bundles and a statement naming the log, the old and
the new key's fingerprints, signed by BOTH keys: the old key vouches for its successor
(nobody without it can rotate), the new one proves it is held. The statement is RFC 8785
JSON (:mod:`agent.audit.jcs`).

Verifying a log builds its :class:`KeyChain` from those records, oldest first: key 0
signed sizes 0..n1 (n1 = the seq of the first rotation, whose own checkpoint the old key
signs), key 1 sizes n1..n2, and so on. A checkpoint or review note is accepted only under
the key in force for its size, so an old key (perhaps the leaked one a rotation retired)
signs nothing later. The chain must contain the key the verifier trusts (the site's
current key, or the public key file an auditor was given), whichever link that is: each
rotation is signed by both its keys, so trust runs both ways along the chain. A rotation
not signed by the key it replaces is reported as a bad record and adds no key.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from agent.audit.jcs import canonicalize
from agent.audit.records import AuditRecord
from agent.audit.signing import CheckpointSigner, CheckpointVerifier
from agent.audit.vault_keys import BundleVerifier
from agent.audit.verify import Problem
from agent.vault.signing import PublicBundle

ROTATION_TYPE = "plantagent-audit-key-rotation/v1"
ROTATION_EVENT = "audit_key_rotated"


def rotation_statement(log_id: str, old: PublicBundle, new: PublicBundle) -> dict[str, Any]:
    """What both keys sign when the audit key changes from ``old`` to ``new``."""
    return {"type": ROTATION_TYPE, "log_id": log_id, "old_key": old.fingerprint,
            "new_key": new.fingerprint}


def rotation_payload(log_id: str, old: CheckpointSigner, old_public: PublicBundle,
                     new: CheckpointSigner, new_public: PublicBundle) -> dict[str, Any]:
    """The payload of the rotation record, signed by the old and the new key."""
    statement = rotation_statement(log_id, old_public, new_public)
    message = canonicalize(statement)
    return {
        "event": ROTATION_EVENT,
        "statement": statement,
        "old_public": old_public.model_dump(mode="json"),
        "new_public": new_public.model_dump(mode="json"),
        "old_signature": base64.b64encode(old.sign(message)).decode("ascii"),
        "new_signature": base64.b64encode(new.sign(message)).decode("ascii"),
    }


def is_rotation(record: AuditRecord) -> bool:
    """True for a record announcing a new audit signing key."""
    return record.kind == "key_change" and record.payload.get("event") == ROTATION_EVENT


@dataclass
class _Span:
    verifier: CheckpointVerifier
    first: int  # smallest tree size this key may sign
    last: int | None = None  # largest (None: still in force)


class KeyChain:
    """The audit signing keys of one log, each with the tree sizes it may sign.

    Usable wherever a :class:`~agent.audit.signing.CheckpointVerifier` is (its key is
    the newest one); checkpoints and review notes pick their key by id with
    :meth:`select`.
    """

    def __init__(self, spans: list[_Span], trusted: CheckpointVerifier) -> None:
        self._spans = spans
        self.trusted = trusted
        self.anchored = any(s.verifier.key_id == trusted.key_id for s in spans)

    @property
    def key_id(self) -> str:
        """The id of the key in force now (the newest)."""
        return self._spans[-1].verifier.key_id

    @property
    def key_ids(self) -> list[str]:
        """Every key of the chain, oldest first."""
        return [s.verifier.key_id for s in self._spans]

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True when the newest key signed ``message`` (and the chain is trusted)."""
        return self.anchored and self._spans[-1].verifier.verify(message, signature)

    def select(self, key_id: str, size: int) -> tuple[CheckpointVerifier | None, str]:
        """The verifier of ``key_id`` when that key may sign tree size ``size``; else None
        and why not."""
        if not self.anchored:
            return None, (f"signed by key {key_id}, not by the trusted key "
                          f"{self.trusted.key_id} nor a key the log rotated to from it")
        for span in self._spans:
            if span.verifier.key_id != key_id:
                continue
            if size < span.first or (span.last is not None and size > span.last):
                until = "now" if span.last is None else f"record {span.last}"
                return None, (f"signed by key {key_id[:16]} for tree size {size}, outside the "
                              f"time it was the audit key (from record {span.first} to "
                              f"{until}): an old key signs nothing after its rotation")
            return span.verifier, ""
        return None, (f"signed by key {key_id}, not by the trusted key {self.trusted.key_id} "
                      "nor a key the log rotated to from it")


def build_chain(log_id: str, trusted: CheckpointVerifier,
                rotations: Iterable[AuditRecord]) -> tuple[KeyChain, list[Problem]]:
    """The key chain of a log from its rotation records (oldest first), and a problem for
    every rotation that is not signed by the key it replaces and by the new key."""
    spans: list[_Span] = []
    problems: list[Problem] = []
    for record in rotations:
        parsed = _rotation(record, log_id)
        if isinstance(parsed, str):
            problems.append(Problem(message=f"record {record.seq}: {parsed}", seq=record.seq))
            continue
        old, new = parsed
        if spans and spans[-1].verifier.key_id != old.key_id:
            problems.append(Problem(
                message=f"record {record.seq}: a rotation of the audit key from "
                f"{old.key_id[:16]}, which was not the audit key then "
                f"({spans[-1].verifier.key_id[:16]}): forged or replayed", seq=record.seq))
            continue
        if not spans:
            spans.append(_Span(old, 0))
        spans[-1].last = record.seq
        spans.append(_Span(new, record.seq))
    if not spans:
        spans.append(_Span(trusted, 0))
    return KeyChain(spans, trusted), problems


def _rotation(record: AuditRecord, log_id: str) -> tuple[BundleVerifier, BundleVerifier] | str:
    """The old and new keys of a sound rotation record, or what is wrong with it."""
    p = record.payload
    try:
        old = PublicBundle.model_validate(p.get("old_public"))
        new = PublicBundle.model_validate(p.get("new_public"))
    except ValidationError:
        return "a rotation of the audit key without valid public keys"
    statement = rotation_statement(log_id, old, new)
    if p.get("statement") != statement:
        return "a rotation of the audit key whose statement does not match its keys or log"
    message = canonicalize(statement)
    for name, bundle, role in (("old_signature", old, "the key it replaces"),
                               ("new_signature", new, "the new key")):
        try:
            signature = base64.b64decode(str(p.get(name)), validate=True)
        except (binascii.Error, ValueError):
            signature = b""
        if not BundleVerifier(bundle).verify(message, signature):
            return f"a rotation of the audit key not signed by {role} (forged)"
    return BundleVerifier(old), BundleVerifier(new)
