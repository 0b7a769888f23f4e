"""Reviewer notes: a signed verdict on a range of records, appended to the same chain.

The note's payload names the reviewed range, the Merkle root of those records' hashes (so
the verdict is bound to exactly what the reviewer saw), the verdict, the text, and a
hybrid signature over all of it. Verification recomputes the root from the chain and
checks the signature with the site's public keys.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any, Literal, get_args

from agent.audit.merkle import root_of
from agent.audit.records import AuditRecord, canonical_json
from agent.audit.signing import CheckpointSigner, CheckpointVerifier, pick_verifier

Verdict = Literal["reviewed", "finding", "accepted"]
VERDICTS: tuple[str, ...] = get_args(Verdict)
REVIEW_TYPE = "plantagent-audit-review/v1"


def review_statement(
    *,
    log_id: str,
    reviewer: str,
    first: int,
    last: int,
    target_root: str,
    verdict: str,
    note: str,
    key_id: str,
) -> bytes:
    """The canonical bytes a review note's signature covers."""
    return canonical_json(
        {
            "type": REVIEW_TYPE,
            "log_id": log_id,
            "reviewer": reviewer,
            "first": first,
            "last": last,
            "target_root": target_root,
            "verdict": verdict,
            "note": note,
            "key_id": key_id,
        }
    )


def review_payload(
    signer: CheckpointSigner,
    *,
    log_id: str,
    reviewer: str,
    first: int,
    last: int,
    target_hashes: Sequence[bytes],
    verdict: str,
    note: str,
) -> dict[str, Any]:
    """The payload of a review_note record, signed."""
    target_root = root_of(target_hashes).hex()
    statement = review_statement(
        log_id=log_id,
        reviewer=reviewer,
        first=first,
        last=last,
        target_root=target_root,
        verdict=verdict,
        note=note,
        key_id=signer.key_id,
    )
    return {
        "first": first,
        "last": last,
        "target_root": target_root,
        "verdict": verdict,
        "note": note,
        "key_id": signer.key_id,
        "signature": base64.b64encode(signer.sign(statement)).decode("ascii"),
    }


def check_review(
    record: AuditRecord,
    log_id: str,
    hashes: Sequence[bytes],
    verifier: CheckpointVerifier | None,
) -> str | None:
    """None when a review_note record is sound; otherwise what is wrong with it.

    ``hashes`` are the hashes of the records before this one (index = seq - 1).
    """
    p = record.payload
    first, last = p.get("first"), p.get("last")
    if not (isinstance(first, int) and isinstance(last, int) and 1 <= first <= last):
        return "review note names no valid record range"
    if last >= record.seq or last > len(hashes):
        return f"review note covers records {first}-{last}, not all before it"
    root = root_of(hashes[first - 1 : last]).hex()
    if p.get("target_root") != root:
        return f"review note does not match records {first}-{last} as they are now"
    if verifier is None:
        return None
    chosen, why = pick_verifier(verifier, str(p.get("key_id")), record.seq - 1)
    if chosen is None:
        return f"review note {why}"
    statement = review_statement(
        log_id=log_id,
        reviewer=record.actor,
        first=first,
        last=last,
        target_root=root,
        verdict=str(p.get("verdict")),
        note=str(p.get("note")),
        key_id=chosen.key_id,
    )
    try:
        signature = base64.b64decode(str(p.get("signature")), validate=True)
    except (binascii.Error, ValueError):
        return "review note signature is not base64"
    if not chosen.verify(statement, signature):
        return "review note signature does not verify"
    return None
