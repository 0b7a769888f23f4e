"""``plantagent bundle verify``: the installer's checks, run by trusted, installed code.

The same functions as the offline installer (:mod:`agent.bundle.offline.verify`), with the
product's own hybrid verifier (:func:`agent.vault.signing.verify_raw`) instead of the
bundle's cryptography wheel: run from an installed plantagent, this is the check that
does not rely on anything inside the bundle.
"""

from __future__ import annotations

from pathlib import Path

from agent.bundle.errors import translated
from agent.bundle.offline.files import Progress
from agent.bundle.offline.keys import PublicKey, trusted_keys
from agent.bundle.offline.layout import MLDSA_CONTEXT
from agent.bundle.offline.signature import Verifier
from agent.bundle.offline.target import this_machine
from agent.bundle.offline.verify import Verified, verify_bundle
from agent.vault.signing import HybridSignature, verify_raw


def product_verifier(_root: Path, _sums: dict[str, str]) -> Verifier:
    """Release signatures checked with the vault's primitives (not the bundle's)."""

    def check(key: PublicKey, message: bytes, ed_sig: bytes, ml_sig: bytes) -> list[str]:
        return verify_raw(key.ed25519, key.mldsa65, message, HybridSignature(ed_sig, ml_sig),
                          context=MLDSA_CONTEXT)

    return check


def site_trusted_keys(home: Path) -> list[PublicKey]:
    """The release keys the site at ``home`` trusts."""
    with translated():
        return trusted_keys(home)


def verify_directory(
    root: Path,
    keys: list[PublicKey],
    *,
    check_target: bool = False,
    progress: Progress | None = None,
) -> Verified:
    """Verify the bundle at ``root`` (signature with one of ``keys``, every file, and the
    target when ``check_target``); BundleError or UsageError when refused."""
    with translated():
        return verify_bundle(root, keys, product_verifier,
                             this_machine() if check_target else None, progress)
