"""Helpers of the bundle tests: release keys with a cheap KDF, small real bundles, derived
(altered, re-signed) copies, and running a bundle's installer as a site would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from importlib.metadata import distribution
from pathlib import Path

from agent.bundle.build import seal_bundle
from agent.bundle.keys import keygen, load_private, sign
from agent.bundle.offline import layout
from agent.bundle.offline.files import parse_sums, render_sums, sha256_file
from agent.bundle.wheels import WheelInfo, read_wheel
from agent.vault.signing import SigningKeys
from tests.support.namespaces import can_unshare
from tests.support.sites import FAST_KDF

PASSPHRASE = "a release passphrase for tests"
__all__ = ["PASSPHRASE", "can_unshare"]


def release_key(directory: Path, name: str = "test-release") -> tuple[Path, SigningKeys]:
    """A release key pair in ``directory`` (cheap scrypt); returns (release.pub, keys)."""
    result = keygen(directory, PASSPHRASE, name=name, kdf=FAST_KDF)
    return result.public, load_private(result.private, PASSPHRASE)


def repack_wheel(dist_name: str, into: Path) -> Path:
    """A wheel of an installed distribution, from the files its RECORD lists (the real
    bytes the installed copy runs), named with the tag its WHEEL file gives."""
    dist = distribution(dist_name)
    wheel_meta = dist.read_text("WHEEL") or ""
    tag = next(line.split(":", 1)[1].strip() for line in wheel_meta.splitlines()
               if line.startswith("Tag:"))
    name = dist.metadata["Name"].replace("-", "_")
    path = into / f"{name}-{dist.version}-{tag}.whl"
    into.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in dist.files or []:
            if "__pycache__" in file.parts or file.parts[0] == "..":
                continue
            zf.write(Path(str(dist.locate_file(file))), file.as_posix())
    return path


def mini_bundle(parent: Path, keys: SigningKeys, *, version: str = "1.0.0",
                name: str = "mini") -> Path:
    """A real, signed bundle without models whose wheels are the verifier's own
    (cryptography, cffi): enough for every check the installer makes before pip."""
    root = parent / name
    wheels: list[WheelInfo] = [read_wheel(repack_wheel(d, root / layout.WHEELS))
                               for d in ("cryptography", "cffi")]
    seal_bundle(root, keys, version=version, wheels=wheels, models=[])
    return root


def link_copy(src: Path, dest: Path) -> Path:
    """A copy of a bundle whose files are hard links (cheap for the 500 MB of models).
    Change a file of it only through :func:`replace_file`, never in place."""
    shutil.copytree(src, dest, copy_function=os.link)
    return dest


def replace_file(path: Path, data: bytes) -> None:
    """Give ``path`` new content without touching the file it may share a link with."""
    path.unlink()
    path.write_bytes(data)


def resign(root: Path, keys: SigningKeys, change: Callable[[dict[str, object]], None]) -> None:
    """Edit ``root``'s manifest with ``change`` and sign the bundle again, as a release
    would (used to make a genuinely signed newer or other-target bundle)."""
    manifest = json.loads((root / layout.MANIFEST).read_text(encoding="utf-8"))
    change(manifest)
    replace_file(root / layout.MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())
    sums = parse_sums((root / layout.SUMS).read_text(encoding="utf-8"))
    sums[layout.MANIFEST] = sha256_file(root / layout.MANIFEST)
    data = render_sums(sums).encode()
    signature = sign(keys, data)
    replace_file(root / layout.SUMS, data)
    replace_file(root / layout.SIG_ED25519, signature.ed25519)
    replace_file(root / layout.SIG_MLDSA65, signature.mldsa65)


def run_installer(bundle: Path, *args: str, netns: bool = False,
                  env: dict[str, str] | None = None,
                  timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run ``bundle/install.sh ARGS`` with the base Python of this interpreter (no venv,
    as on a fresh machine); with ``netns`` in a new network namespace whose only
    interface is loopback."""
    python = getattr(sys, "_base_executable", None) or sys.executable
    cmd = [str(bundle / layout.INSTALL_SH), "--python", python, *args]
    if netns:
        script = 'ip link set lo up && exec "$@"'
        cmd = ["unshare", "--net", "sh", "-c", script, "sh", *cmd]
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=timeout)


def sbom_errors(sbom: dict[str, object]) -> list[str]:
    """Every violation of the official CycloneDX 1.6 JSON schema (the copy shipped as
    package data of cyclonedx-python-lib; no network), checked with jsonschema."""
    from importlib import resources

    from jsonschema import Draft7Validator
    from referencing import Registry, Resource

    res = resources.files("cyclonedx.schema._res")

    def load(name: str) -> dict[str, object]:
        data: dict[str, object] = json.loads(res.joinpath(name).read_text(encoding="utf-8"))
        return data

    base = "http://cyclonedx.org/schema/"
    registry: Registry = Registry().with_resources(
        (base + name, Resource.from_contents(load(name)))
        for name in ("spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json")
    )
    validator = Draft7Validator(load("bom-1.6.SNAPSHOT.schema.json"), registry=registry)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(sbom)]
