"""The audit signing key pair: Ed25519 and ML-DSA-65, used together.

A signature is hybrid: it holds one signature of each scheme over the same message, and
verification requires BOTH, so the audit trail stays unforgeable if either scheme falls
(ML-DSA against a quantum adversary, Ed25519 against an early flaw in the new scheme).
The private keys are the two 32-byte seeds, sealed under a DEK subkey inside site.json.
An auditor verifies elsewhere with only the exported :class:`PublicBundle`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.mldsa import MLDSA65PrivateKey, MLDSA65PublicKey
from pydantic import BaseModel, ConfigDict

from agent.errors import IntegrityError
from agent.vault import crypto
from agent.vault.manifest import SigningRecord

#: ML-DSA context string: binds signatures to this use (FIPS 204 domain separation).
MLDSA_CONTEXT = b"plantagent-audit-v1"
_SIG_MAGIC = b"PAS1"
_ED_LEN = 64
_MLDSA_LEN = 3309


@dataclass(frozen=True)
class HybridSignature:
    """One Ed25519 and one ML-DSA-65 signature over the same message."""

    ed25519: bytes
    mldsa65: bytes

    def encode(self) -> bytes:
        """Compact binary form: magic, lengths, then both signatures."""
        head = struct.pack(">4sHH", _SIG_MAGIC, len(self.ed25519), len(self.mldsa65))
        return head + self.ed25519 + self.mldsa65

    @classmethod
    def decode(cls, data: bytes) -> HybridSignature:
        """Parse :meth:`encode` output; raises IntegrityError when malformed."""
        bad = IntegrityError("a signature is malformed (not a plantagent hybrid signature)")
        if len(data) < 8:
            raise bad
        magic, ed_len, ml_len = struct.unpack(">4sHH", data[:8])
        if magic != _SIG_MAGIC or ed_len != _ED_LEN or ml_len != _MLDSA_LEN:
            raise bad
        if len(data) != 8 + ed_len + ml_len:
            raise bad
        return cls(data[8 : 8 + ed_len], data[8 + ed_len :])

    def to_b64(self) -> str:
        """The encoded signature as base64 text (for JSON records)."""
        return crypto.b64e(self.encode())

    @classmethod
    def from_b64(cls, text: str) -> HybridSignature:
        """Parse :meth:`to_b64` output; raises IntegrityError when malformed."""
        try:
            raw = crypto.b64d(text)
        except ValueError:
            raise IntegrityError("a signature is not valid base64") from None
        return cls.decode(raw)


class PublicBundle(BaseModel):
    """The public half of a site's signing keys, enough to verify its signatures."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    format: Literal["plantagent-public-keys"] = "plantagent-public-keys"
    version: Literal[1] = 1
    site_id: str
    ed25519: str
    mldsa65: str
    ed25519_pem: str
    mldsa65_pem: str
    fingerprints: dict[str, str]

    @property
    def fingerprint(self) -> str:
        """SHA-256 over both raw public keys: the one value to compare out of band."""
        return bundle_fingerprint(crypto.b64d(self.ed25519), crypto.b64d(self.mldsa65))


def bundle_fingerprint(ed_raw: bytes, ml_raw: bytes) -> str:
    """The fingerprint of a pair of raw public keys."""
    return crypto.sha256_hex(b"plantagent-keys\0" + ed_raw + ml_raw)


@dataclass(frozen=True)
class SigningKeys:
    """The private signing keys of a site, held in memory while it is open."""

    ed25519: Ed25519PrivateKey
    mldsa65: MLDSA65PrivateKey

    @classmethod
    def generate(cls) -> SigningKeys:
        """A fresh key pair of each scheme."""
        return cls(Ed25519PrivateKey.generate(), MLDSA65PrivateKey.generate())

    def seeds(self) -> bytes:
        """The 64 bytes of private seed material (Ed25519 seed, then ML-DSA seed)."""
        return self.ed25519.private_bytes_raw() + self.mldsa65.private_bytes_raw()

    @classmethod
    def from_seeds(cls, seeds: bytes) -> SigningKeys:
        """Rebuild the keys from :meth:`seeds` output."""
        return cls(
            Ed25519PrivateKey.from_private_bytes(seeds[:32]),
            MLDSA65PrivateKey.from_seed_bytes(seeds[32:64]),
        )

    def sign(self, message: bytes, *, context: bytes) -> HybridSignature:
        """Sign ``message`` with both keys; ``context`` is the ML-DSA context of the use."""
        return HybridSignature(
            ed25519=self.ed25519.sign(message), mldsa65=self.mldsa65.sign(message, context)
        )

    def record(self, sealing_key: bytes, site_id: str) -> SigningRecord:
        """The manifest record: seeds sealed under ``sealing_key``, public keys in clear."""
        return SigningRecord(
            sealed_private=crypto.b64e(crypto.seal(sealing_key, self.seeds(), _aad(site_id))),
            ed25519_public=crypto.b64e(self.ed25519.public_key().public_bytes_raw()),
            mldsa65_public=crypto.b64e(self.mldsa65.public_key().public_bytes_raw()),
        )

    @classmethod
    def from_record(cls, record: SigningRecord, sealing_key: bytes, site_id: str) -> SigningKeys:
        """Unseal the keys of a manifest; IntegrityError if they do not match the record."""
        try:
            seeds = crypto.unseal(sealing_key, crypto.b64d(record.sealed_private), _aad(site_id))
            keys = cls.from_seeds(seeds)
        except (crypto.DecryptionFailed, ValueError):
            raise IntegrityError(
                "the signing keys in site.json cannot be unsealed (altered or damaged)",
                fix="restore site.json from a key backup (`plantagent keys restore`)",
            ) from None
        ed_pub = keys.ed25519.public_key().public_bytes_raw()
        ml_pub = keys.mldsa65.public_key().public_bytes_raw()
        if crypto.b64e(ed_pub) != record.ed25519_public or (
            crypto.b64e(ml_pub) != record.mldsa65_public
        ):
            raise IntegrityError("the public signing keys in site.json do not match the private")
        return keys


def _aad(site_id: str) -> bytes:
    return f"plantagent/signing-keys|{site_id}".encode()


class Signer:
    """Signs with both keys of a site; the audit log's only way to reach them."""

    def __init__(self, keys: SigningKeys, site_id: str) -> None:
        self._keys = keys
        self._site_id = site_id

    def sign(self, message: bytes) -> HybridSignature:
        """Sign ``message`` with Ed25519 and ML-DSA-65."""
        return self._keys.sign(message, context=MLDSA_CONTEXT)

    def public_bundle(self) -> PublicBundle:
        """The exportable public keys with their fingerprints."""
        return make_bundle(
            self._site_id, self._keys.ed25519.public_key(), self._keys.mldsa65.public_key()
        )


def make_bundle(site_id: str, ed: Ed25519PublicKey, ml: MLDSA65PublicKey) -> PublicBundle:
    """Build the public bundle of a pair of public keys."""
    pem, spki = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ed_raw, ml_raw = ed.public_bytes_raw(), ml.public_bytes_raw()
    return PublicBundle(
        site_id=site_id,
        ed25519=crypto.b64e(ed_raw),
        mldsa65=crypto.b64e(ml_raw),
        ed25519_pem=ed.public_bytes(pem, spki).decode("ascii"),
        mldsa65_pem=ml.public_bytes(pem, spki).decode("ascii"),
        fingerprints={
            "ed25519": crypto.sha256_hex(ed_raw),
            "mldsa65": crypto.sha256_hex(ml_raw),
            "bundle": bundle_fingerprint(ed_raw, ml_raw),
        },
    )


def verify(bundle: PublicBundle, message: bytes, signature: HybridSignature) -> None:
    """Check a hybrid signature; raises IntegrityError unless BOTH signatures verify.

    Uses only the raw keys of the bundle (the PEM copies are for other tools).
    """
    try:
        ed_raw, ml_raw = crypto.b64d(bundle.ed25519), crypto.b64d(bundle.mldsa65)
    except ValueError:
        raise IntegrityError("the public key bundle holds malformed keys") from None
    failed = verify_raw(ed_raw, ml_raw, message, signature, context=MLDSA_CONTEXT)
    if failed:
        raise IntegrityError(
            f"signature check failed ({' and '.join(failed)} did not verify): the signed "
            "data or the signature was altered, or it was signed by another site's keys"
        )


def verify_raw(
    ed_raw: bytes, ml_raw: bytes, message: bytes, signature: HybridSignature, *, context: bytes
) -> list[str]:
    """The schemes whose signature over ``message`` does NOT verify under the raw public
    keys (empty: both verify). ``context`` is the ML-DSA context string of the use (the
    audit log's, a release key's), so a signature made for one use is void for another.
    IntegrityError when a key is malformed."""
    try:
        ed = Ed25519PublicKey.from_public_bytes(ed_raw)
        ml = MLDSA65PublicKey.from_public_bytes(ml_raw)
    except ValueError:
        raise IntegrityError("the public key bundle holds malformed keys") from None
    failed: list[str] = []
    try:
        ed.verify(signature.ed25519, message)
    except InvalidSignature:
        failed.append("Ed25519")
    try:
        ml.verify(signature.mldsa65, message, context)
    except InvalidSignature:
        failed.append("ML-DSA-65")
    return failed
