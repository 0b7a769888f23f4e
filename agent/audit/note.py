"""Checkpoints as C2SP signed notes (https://c2sp.org/signed-note, tlog-checkpoint): the
form an auditor's own tools (a Go `sumdb/note` verifier, a few lines of Node.js or
OpenSSL) check without plantagent.

Body: the origin line, the tree size, the RFC 6962 root hash in base64, each ending in a
newline. Signature lines: ``— NAME base64(key hash || signature)``, one Ed25519 line
(type 0x01: key hash = SHA-256(NAME || "\\n" || 0x01 || public key)[:4]), and the ML-DSA-65
signature of the same body under its own key name ``NAME/mldsa65`` as an additional line
(type 0xff, which signed-note leaves to signature types it does not define; ML-DSA
context ``plantagent-audit-v1``). Verifiers that know only Ed25519 skip the second line.
"""

from __future__ import annotations

import base64
import hashlib

from agent.vault.signing import Signer

ED25519_TYPE = 0x01
OTHER_TYPE = 0xFF
DASH = "\u2014"


def origin_of(site_id: str, log_id: str) -> str:
    """The checkpoint origin of a site's log (a schemaless URL-like name, as C2SP asks)."""
    return f"plantagent.invalid/{site_id}/audit/{log_id}"


def note_body(origin: str, tree_size: int, root_hex: str) -> str:
    """The signed text of a tlog-checkpoint."""
    root = base64.b64encode(bytes.fromhex(root_hex)).decode("ascii")
    return f"{origin}\n{tree_size}\n{root}\n"


def key_hash(name: str, sig_type: int, public: bytes) -> bytes:
    """The 4-byte key hash of a signed-note verifier key."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public).digest()[:4]


def signed_note(signer: Signer, origin: str, tree_size: int, root_hex: str) -> str:
    """The checkpoint as a signed note: body, blank line, the two signature lines."""
    body = note_body(origin, tree_size, root_hex)
    keys = signer.public_bundle()
    signature = signer.sign(body.encode("utf-8"))
    ed_public = base64.b64decode(keys.ed25519)
    ml_public = base64.b64decode(keys.mldsa65)
    ml_name = f"{origin}/mldsa65"
    lines = [
        f"{DASH} {origin} " + base64.b64encode(
            key_hash(origin, ED25519_TYPE, ed_public) + signature.ed25519).decode("ascii"),
        f"{DASH} {ml_name} " + base64.b64encode(
            key_hash(ml_name, OTHER_TYPE, ml_public) + signature.mldsa65).decode("ascii"),
    ]
    return body + "\n" + "\n".join(lines) + "\n"
