"""What the audit log needs from the vault's hybrid (Ed25519 + ML-DSA-65) signing keys.

The log never touches private key material: it is handed a :class:`CheckpointSigner`
and checks signatures with a :class:`CheckpointVerifier` built from the site's public key
bundle. ``key_id`` names the key pair so a checkpoint says which key signed it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class CheckpointSigner(Protocol):
    """Signs checkpoint statements and review notes."""

    @property
    def key_id(self) -> str:
        """A stable identifier of the key pair (e.g. a hash of the public bundle)."""
        ...

    def sign(self, message: bytes) -> bytes:
        """The hybrid signature of ``message``."""
        ...


@runtime_checkable
class CheckpointVerifier(Protocol):
    """Checks signatures with public keys only (what an auditor holds)."""

    @property
    def key_id(self) -> str:
        """The identifier of the key pair whose signatures this accepts."""
        ...

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True when ``signature`` is a valid hybrid signature of ``message``."""
        ...


@runtime_checkable
class KeySelector(Protocol):
    """A verifier of several keys in turn (agent/audit/keychain.py): picks the key a
    signature names, if that key may sign at that tree size."""

    def select(self, key_id: str, size: int) -> tuple[CheckpointVerifier | None, str]:
        """The verifier of ``key_id`` at tree size ``size``, or None and why not."""
        ...


def pick_verifier(verifier: CheckpointVerifier, key_id: str,
                  size: int) -> tuple[CheckpointVerifier | None, str]:
    """The verifier for a signature by ``key_id`` over a log of ``size`` records: from a
    key chain, the key in force then; from a single key, that key if it is the one."""
    if isinstance(verifier, KeySelector):
        return verifier.select(key_id, size)
    if key_id != verifier.key_id:
        return None, f"signed by key {key_id}, not by the trusted key {verifier.key_id}"
    return verifier, ""
