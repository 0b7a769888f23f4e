"""``plantagent bundle build``: one signed directory (and a tarball of it) to carry in.

Order: unlock the release key (fail fast), collect the wheels, collect the models, copy the
installer, write the manifest and the SBOM, list every file in SHA256SUMS, sign it, check
the result with the same verifier the installer runs, then rename the build directory
into place and write the tarball. A failed build leaves no bundle that looks complete.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from agent.bundle.keys import load_private, public_file, sign
from agent.bundle.manifest import (
    Builder,
    BundleManifest,
    ModelEntryOut,
    WheelEntry,
    build_target,
    python_version,
)
from agent.bundle.model_files import ModelFile, collect_models, default_models, shipped_manifest
from agent.bundle.offline import layout
from agent.bundle.offline.files import render_sums, sha256_file
from agent.bundle.offline.keys import PublicKey, parse_public_key
from agent.bundle.offline.target import glibc_version
from agent.bundle.sbom import build_sbom
from agent.bundle.verify import verify_directory
from agent.bundle.wheels import EXTRAS, WheelInfo, collect_wheels, find_project, pip_version
from agent.errors import UsageError
from agent.vault.signing import SigningKeys

#: The smoke test the installer runs: the demo plant, one question, printed answer.
SMOKE_TEST = ["demo", "--no-tui", "What is the bearing temperature of P-101?"]

#: step(name) is called as each build step starts (for the CLI's progress lines).
StepHook = Callable[[str], None]


@dataclass
class BuildRequest:
    """What to build, from where, signed with which key."""

    out: Path
    key_file: Path
    passphrase: str
    models: list[str] | None = None
    model_dir: Path | None = None
    project: Path | None = None
    constraints: Path | None = None
    tarball: bool = True


@dataclass
class BuildResult:
    """The built bundle and what it took."""

    root: Path
    tarball: Path | None
    manifest: BundleManifest
    digest: str
    size: int
    seconds: dict[str, float] = field(default_factory=dict)


def build_bundle(request: BuildRequest, step: StepHook | None = None) -> BuildResult:
    """Build, sign and self-verify a bundle under ``request.out``; see the module doc."""
    timer = _Timer(step)
    timer.start("unlocking the release key")
    keys = load_private(request.key_file, request.passphrase)
    request.out.mkdir(parents=True, exist_ok=True)
    work = request.out / f".plantagent-bundle-build-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    try:
        timer.start("collecting wheels (pip wheel)")
        wheels = collect_wheels(request.project or find_project(), work / layout.WHEELS,
                                constraints=request.constraints)
        timer.start("collecting models")
        names = request.models or default_models(shipped_manifest())
        models = collect_models(names, work / layout.MODELS, model_dir=request.model_dir)
        timer.start("writing the installer, manifest, SBOM and signature")
        plantagent = next(w for w in wheels if w.key == "plantagent")
        result = seal_bundle(work, keys, version=plantagent.version, wheels=wheels,
                             models=models)
        final = request.out / _bundle_name(result)
        if final.exists():
            raise UsageError(f"{final} already exists",
                             fix="remove it, or build into another --out directory")
        os.replace(work, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    timer.start("verifying the bundle")
    verified = verify_directory(final, [_public_key(keys)])
    tarball = None
    if request.tarball:
        timer.start("writing the tarball")
        tarball = write_tarball(final)
    timer.stop()
    size = sum(p.stat().st_size for p in final.rglob("*") if p.is_file())
    return BuildResult(final, tarball, result, verified.digest, size, timer.seconds)


def _public_key(keys: SigningKeys) -> PublicKey:
    return parse_public_key(public_file(keys, "release").model_dump(), "the release key")


def _bundle_name(manifest: BundleManifest) -> str:
    py = "cp" + manifest.target.python.replace(".", "")
    return f"plantagent-{manifest.version}-{py}-{manifest.target.platform.replace('-', '_')}"


def _copy_installer(root: Path) -> None:
    package = root / layout.INSTALLER_PACKAGE
    package.mkdir()
    source = resources.files("agent.bundle.offline")
    for item in sorted(source.iterdir(), key=lambda t: t.name):
        if item.name.endswith(".py"):
            (package / item.name).write_text(item.read_text(encoding="utf-8"), encoding="utf-8")
    templates = resources.files("agent.bundle.templates")
    (root / layout.INSTALL_PY).write_text(
        templates.joinpath("install.py.txt").read_text(encoding="utf-8"), encoding="utf-8")
    install_sh = root / layout.INSTALL_SH
    install_sh.write_text(templates.joinpath("install.sh.txt").read_text(encoding="utf-8"),
                          encoding="utf-8")
    install_sh.chmod(0o755)


def seal_bundle(root: Path, keys: SigningKeys, *, version: str, wheels: list[WheelInfo],
                models: list[ModelFile]) -> BundleManifest:
    """Complete a directory holding ``wheels/`` and ``models/`` into a signed bundle:
    the installer, README, manifest, SBOM, SHA256SUMS and its two signatures."""
    fingerprint = public_file(keys, "release").fingerprint
    _copy_installer(root)
    target = build_target(wheels)
    readme = resources.files("agent.bundle.templates").joinpath("README.txt")
    (root / layout.README).write_text(
        readme.read_text(encoding="utf-8").format(
            version=version, fingerprint=fingerprint,
            target=f"Python {target.python} on {target.platform}"),
        encoding="utf-8")
    hashes = {p.relative_to(root).as_posix(): sha256_file(p)
              for p in sorted(root.rglob("*")) if p.is_file()}
    has_chat = any(m.entry.role == "chat" and m.entry.name == shipped_manifest().default_chat
                   for m in models)
    manifest = BundleManifest(
        version=version,
        extras=list(EXTRAS),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        release_key=fingerprint,
        target=target,
        wheels=[WheelEntry(file=_rel(w.path, root), name=w.name, version=w.version,
                           sha256=hashes[_rel(w.path, root)], size=w.path.stat().st_size)
                for w in wheels],
        models=[ModelEntryOut(name=m.entry.name, file=_rel(m.path, root), sha256=m.entry.sha256,
                              size=m.entry.size, role=m.entry.role, licence=m.entry.licence)
                for m in models],
        smoke_test=SMOKE_TEST if has_chat else None,
        builder=Builder(plantagent=version, python=python_version(), pip=pip_version(),
                        glibc=glibc_version()),
    )
    (root / layout.MANIFEST).write_text(manifest.model_dump_json(indent=2) + "\n",
                                        encoding="utf-8")
    hashes[layout.MANIFEST] = sha256_file(root / layout.MANIFEST)
    others = {rel: sha for rel, sha in hashes.items()
              if not rel.startswith((f"{layout.WHEELS}/", f"{layout.MODELS}/"))}
    (root / layout.SBOM).write_text(
        build_sbom(version=version, wheels=wheels, hashes=hashes, models=models,
                   files=others, root=root, extras=EXTRAS),
        encoding="utf-8")
    hashes[layout.SBOM] = sha256_file(root / layout.SBOM)
    sums = render_sums(hashes).encode("utf-8")
    (root / layout.SUMS).write_bytes(sums)
    signature = sign(keys, sums)
    (root / layout.SIG_ED25519).write_bytes(signature.ed25519)
    (root / layout.SIG_MLDSA65).write_bytes(signature.mldsa65)
    return manifest


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def write_tarball(root: Path) -> Path:
    """``<root>.tar`` next to the directory (uncompressed: wheels and models are already
    compressed); written to a temporary name and renamed when complete."""
    target = root.with_name(root.name + ".tar")
    part = target.with_name(target.name + ".part")
    with tarfile.open(part, "w", format=tarfile.PAX_FORMAT) as tar:
        tar.add(root, arcname=root.name, recursive=True)
    os.replace(part, target)
    return target


def file_digest(path: Path) -> str:
    """sha256 of a file (the tarball's, to publish next to it)."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


class _Timer:
    def __init__(self, hook: StepHook | None) -> None:
        self.hook = hook
        self.seconds: dict[str, float] = {}
        self._name: str | None = None
        self._t0 = 0.0

    def start(self, name: str) -> None:
        self.stop()
        if self.hook is not None:
            self.hook(name)
        self._name, self._t0 = name, time.monotonic()

    def stop(self) -> None:
        if self._name is not None:
            self.seconds[self._name] = round(time.monotonic() - self._t0, 1)
            self._name = None
