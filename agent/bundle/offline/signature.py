"""Checking the release signature over SHA256SUMS before anything is installed.

The standard library has no Ed25519 or ML-DSA, so the installer loads the bundle's own
``cryptography`` and ``cffi`` wheels: each is hashed first and must match SHA256SUMS, then
unpacked into a temporary directory (never into the target) and imported from there. Both
signatures must verify with one trusted key, as for the audit log's hybrid signatures.

A bundle cannot vouch for itself against someone who can rewrite all of it (installer
included): that is what the standard-tools check of SECURITY.md, or ``plantagent bundle
verify`` run by an installed, trusted copy, is for.
"""

from __future__ import annotations

import importlib
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import InstallError
from .files import sha256_file
from .keys import PublicKey
from .layout import (
    ED25519_SIG_LEN,
    MLDSA65_SIG_LEN,
    MLDSA_CONTEXT,
    SIG_ED25519,
    SIG_MLDSA65,
    WHEELS,
)

#: verify(key, message, ed_sig, ml_sig) -> names of the schemes that did NOT verify
Verifier = Callable[[PublicKey, bytes, bytes, bytes], list[str]]

#: The wheels the verifier needs, by distribution name as wheel files spell it.
CRYPTO_WHEELS = ("cryptography", "cffi")


@dataclass(frozen=True)
class Signatures:
    """The two raw signatures over SHA256SUMS."""

    ed25519: bytes
    mldsa65: bytes


def read_signatures(root: Path) -> Signatures:
    """The signature files of the bundle at ``root``; InstallError if missing or malformed."""
    try:
        ed = (root / SIG_ED25519).read_bytes()
        ml = (root / SIG_MLDSA65).read_bytes()
    except FileNotFoundError as exc:
        raise InstallError(
            f"the bundle at {root} is not signed ({Path(str(exc.filename)).name} is missing)",
            fix="nothing was installed; copy the whole bundle again from the release",
        ) from None
    if len(ed) != ED25519_SIG_LEN or len(ml) != MLDSA65_SIG_LEN:
        raise InstallError(
            f"the signature files of the bundle at {root} are malformed",
            fix="nothing was installed; copy the whole bundle again from the release",
        )
    return Signatures(ed, ml)


def crypto_wheels(root: Path, sums: dict[str, str]) -> list[Path]:
    """The listed wheels the verifier needs, each checked against its listed hash."""
    found: list[Path] = []
    for dist in CRYPTO_WHEELS:
        names = [p for p in sums if p.startswith(f"{WHEELS}/{dist}-") and p.endswith(".whl")]
        if len(names) != 1:
            raise InstallError(
                f"the bundle at {root} has no single {dist} wheel to check its signature with",
                fix="build the bundle again with `plantagent bundle build`",
            )
        path = root / names[0]
        if not path.is_file() or sha256_file(path) != sums[names[0]]:
            raise InstallError(
                f"the bundle at {root} does not match its signed file list "
                f"(altered or missing: {names[0]})",
                fix="nothing was installed; copy the bundle again from the release medium",
            )
        found.append(path)
    return found


def bundled_verifier(root: Path, sums: dict[str, str], workdir: Path) -> Verifier:
    """A verifier from the bundle's cryptography wheel, unpacked into ``workdir``."""
    target = workdir / "crypto"
    for wheel in crypto_wheels(root, sums):
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(target)
    sys.path.insert(0, str(target))
    try:
        ed_mod = importlib.import_module("cryptography.hazmat.primitives.asymmetric.ed25519")
        ml_mod = importlib.import_module("cryptography.hazmat.primitives.asymmetric.mldsa")
        exc_mod = importlib.import_module("cryptography.exceptions")
    except ImportError as exc:
        raise InstallError(
            f"the bundle's cryptography wheel does not load on this machine ({exc})",
            fix="use a bundle built for this machine's Python and platform",
        ) from None
    invalid = exc_mod.InvalidSignature

    def verify(key: PublicKey, message: bytes, ed_sig: bytes, ml_sig: bytes) -> list[str]:
        failed = []
        try:
            ed_mod.Ed25519PublicKey.from_public_bytes(key.ed25519).verify(ed_sig, message)
        except invalid:
            failed.append("Ed25519")
        try:
            ml_mod.MLDSA65PublicKey.from_public_bytes(key.mldsa65).verify(
                ml_sig, message, MLDSA_CONTEXT)
        except invalid:
            failed.append("ML-DSA-65")
        return failed

    return verify


def check_signature(
    root: Path,
    message: bytes,
    keys: list[PublicKey],
    verifier: Verifier,
    claimed: str | None,
) -> PublicKey:
    """The trusted key whose BOTH signatures over ``message`` verify; InstallError if none.

    ``claimed`` is the fingerprint the manifest names (unchecked; used for the message).
    """
    signatures = read_signatures(root)
    for key in keys:
        if not verifier(key, message, signatures.ed25519, signatures.mldsa65):
            return key
    trusted = ", ".join(f"{k.fingerprint[:16]}… ({k.source})" for k in keys)
    if claimed and claimed not in {k.fingerprint for k in keys}:
        raise InstallError(
            f"the bundle at {root} is signed with a release key this site does not trust "
            f"(fingerprint {claimed}); trusted: {trusted}",
            fix="nothing was installed; if the release team confirms that fingerprint out of "
            "band, pass their public key with --trust release.pub",
        )
    raise InstallError(
        f"the release signature of the bundle at {root} does not verify with any trusted key "
        f"({trusted}): its file list or signature was altered, or it was signed by another key",
        fix="nothing was installed; copy the bundle again from the release medium",
    )
