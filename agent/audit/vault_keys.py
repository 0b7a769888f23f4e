"""Adapters from the vault's hybrid signing keys to the audit log's signer protocols.

The vault signs with Ed25519 and ML-DSA-65 together and verifies with a public bundle;
the audit log stores the encoded signature as bytes and names the key pair by the
bundle's fingerprint.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from agent.audit.errors import AuditUsageError
from agent.errors import IntegrityError
from agent.vault.signing import HybridSignature, PublicBundle, Signer, verify


class VaultSigner:
    """A :class:`~agent.audit.signing.CheckpointSigner` over the vault's Signer."""

    def __init__(self, signer: Signer) -> None:
        self._signer = signer
        self._bundle = signer.public_bundle()

    @property
    def key_id(self) -> str:
        """The fingerprint of the site's public bundle."""
        return self._bundle.fingerprint

    @property
    def public_bundle(self) -> PublicBundle:
        """The public keys matching this signer."""
        return self._bundle

    def sign(self, message: bytes) -> bytes:
        """The encoded hybrid signature of ``message``."""
        return self._signer.sign(message).encode()

    def verifier(self) -> BundleVerifier:
        """A verifier for this signer's signatures."""
        return BundleVerifier(self._bundle)


class BundleVerifier:
    """A :class:`~agent.audit.signing.CheckpointVerifier` from a public key bundle only."""

    def __init__(self, bundle: PublicBundle) -> None:
        self.bundle = bundle

    @property
    def key_id(self) -> str:
        """The fingerprint of the bundle."""
        return self.bundle.fingerprint

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True only when both the Ed25519 and the ML-DSA-65 signature verify."""
        try:
            verify(self.bundle, message, HybridSignature.decode(signature))
        except IntegrityError:
            return False
        return True


def load_public_bundle(path: Path) -> BundleVerifier:
    """Read a public key bundle file (JSON) and build a verifier from it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AuditUsageError(
            f"no public key file at {path}",
            fix="give the site's public key bundle (JSON), as the site exported it",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditUsageError(f"cannot read the public key file {path}: {exc}") from None
    try:
        bundle = PublicBundle.model_validate_json(text)
    except (ValidationError, json.JSONDecodeError) as exc:
        raise AuditUsageError(
            f"{path} is not a plantagent public key bundle: {exc.errors()[0]['msg']}"
            if isinstance(exc, ValidationError)
            else f"{path} is not JSON",
            fix="give the JSON file of the site's public signing keys",
        ) from None
    return BundleVerifier(bundle)
