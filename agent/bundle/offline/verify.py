"""Verifying a bundle: target, signature, then every file, before anything is written.

The order matters: the target check reads the (not yet verified) manifest only to refuse
early with a clear message; the signature over SHA256SUMS is checked before any file is
trusted; then every listed file is hashed and unlisted ones are refused. The manifest is
parsed again from bytes whose hash matched the signed list.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InstallError
from .files import Progress, parse_sums, require_files
from .keys import PublicKey
from .layout import MANIFEST, MANIFEST_FORMAT, MANIFEST_FORMAT_VERSION, SUMS
from .signature import Verifier, check_signature
from .target import check_target

#: make_verifier(root, sums) -> Verifier (the bundle's cryptography, or the product's)
VerifierFactory = Callable[[Path, dict[str, str]], Verifier]


@dataclass(frozen=True)
class Verified:
    """A bundle whose signature and files checked out."""

    root: Path
    sums: dict[str, str]
    digest: str
    manifest: dict[str, Any]
    key: PublicKey
    warnings: list[str]

    @property
    def version(self) -> str:
        """The release version of the bundle."""
        return str(self.manifest["version"])


def _parse_manifest(data: bytes, root: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise InstallError(f"{root} is not a plantagent bundle (its manifest is unreadable)",
                           fix="give the directory the bundle tarball extracted into", code=2)
    if int(manifest.get("format_version", 0)) > MANIFEST_FORMAT_VERSION:
        raise InstallError(
            f"the bundle at {root} was made by a newer plantagent (manifest format "
            f"{manifest.get('format_version')})",
            fix="install it with its own install.sh, not an older plantagent",
        )
    for field in ("version", "target", "wheels", "models"):
        if field not in manifest:
            raise InstallError(f"the manifest of the bundle at {root} has no {field!r}",
                               fix="build the bundle again with `plantagent bundle build`")
    return manifest


def read_manifest(root: Path) -> dict[str, Any]:
    """The manifest as it is on disk, NOT verified (for early refusals only)."""
    try:
        data = (root / MANIFEST).read_bytes()
    except FileNotFoundError:
        raise InstallError(f"{root} is not a plantagent bundle (no {MANIFEST})",
                           fix="give the directory the bundle tarball extracted into",
                           code=2) from None
    return _parse_manifest(data, root)


def verify_bundle(
    root: Path,
    keys: list[PublicKey],
    make_verifier: VerifierFactory,
    machine: dict[str, Any] | None,
    progress: Progress | None = None,
) -> Verified:
    """Check the bundle at ``root`` completely; InstallError at the first refusal.

    ``machine`` None skips the target check (verifying a bundle on another machine than
    the one it is for, e.g. a security team's workstation)."""
    unverified = read_manifest(root)
    warnings = check_target(unverified["target"], machine) if machine is not None else []
    if not keys:
        raise InstallError(
            "no trusted release key: this site has none yet and none was given",
            fix="pass --trust release.pub, the release team's public key, after comparing "
            "its fingerprint with the one they told you out of band "
            "(`python3 install.py --fingerprint release.pub`); nothing was installed",
            code=2,
        )
    try:
        sums_bytes = (root / SUMS).read_bytes()
    except FileNotFoundError:
        raise InstallError(f"the bundle at {root} has no {SUMS}",
                           fix="nothing was installed; copy the whole bundle again") from None
    sums = parse_sums(sums_bytes.decode("utf-8", errors="replace"))
    key = check_signature(root, sums_bytes, keys, make_verifier(root, sums),
                          unverified.get("release_key"))
    if MANIFEST not in sums:
        raise InstallError(f"the signed file list of {root} does not list {MANIFEST}",
                           fix="build the bundle again with `plantagent bundle build`")
    require_files(root, sums, progress)
    data = (root / MANIFEST).read_bytes()
    if hashlib.sha256(data).hexdigest() != sums[MANIFEST]:
        raise InstallError(f"{MANIFEST} of the bundle at {root} changed while it was checked",
                           fix="make sure nothing writes to the bundle, then run again")
    manifest = _parse_manifest(data, root)
    return Verified(root, sums, hashlib.sha256(sums_bytes).hexdigest(), manifest, key,
                    warnings)
