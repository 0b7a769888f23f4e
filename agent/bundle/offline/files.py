"""The signed file list (SHA256SUMS) and the check that a bundle holds exactly it.

SHA256SUMS is in the format of ``sha256sum``: ``<64 hex>  <relative path>`` per line,
sorted by path, so ``sha256sum -c SHA256SUMS`` checks a bundle with standard tools. A
bundle is accepted only when every listed file is there with its hash, and nothing else
is: an added file (a planted wheel, a symlink) is refused like an altered one.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .errors import InstallError
from .layout import UNLISTED

_LINE = re.compile(r"^([0-9a-f]{64})  (\S.*)$")
_CHUNK = 1 << 20

#: progress(done_bytes, total_bytes)
Progress = Callable[[int, int], None]


def safe_relative(path: str) -> bool:
    """True for a plain relative POSIX path that stays inside the bundle."""
    if not path or "\\" in path or "\n" in path or "\0" in path:
        return False
    pure = PurePosixPath(path)
    return not pure.is_absolute() and ".." not in pure.parts and str(pure) == path


def parse_sums(text: str) -> dict[str, str]:
    """Path -> sha256 of a SHA256SUMS text; InstallError when a line is malformed."""
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _LINE.match(line)
        if match is None or not safe_relative(match.group(2)) or match.group(2) in sums:
            raise InstallError(
                f"line {number} of the bundle's SHA256SUMS is malformed: {line[:80]!r}",
                fix="get a fresh copy of the bundle; nothing was installed",
            )
        sums[match.group(2)] = match.group(1)
    return sums


def render_sums(sums: dict[str, str]) -> str:
    """The SHA256SUMS text of path -> sha256, sorted by path."""
    return "".join(f"{sums[path]}  {path}\n" for path in sorted(sums))


def sha256_file(path: Path, progress: Progress | None = None, done: int = 0,
                total: int = 0) -> str:
    """The hex sha256 of a file, read in chunks (progress counts from ``done``)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    return digest.hexdigest()


@dataclass
class FileCheck:
    """How a bundle directory differs from its signed file list."""

    altered: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the directory holds exactly the listed files with their hashes."""
        return not (self.altered or self.missing or self.added)

    def describe(self) -> str:
        """One line naming every difference (the first few of each kind)."""
        parts = []
        for label, names in (("altered", self.altered), ("missing", self.missing),
                             ("added", self.added)):
            if names:
                shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more"
                                                if len(names) > 5 else "")
                parts.append(f"{label}: {shown}")
        return "; ".join(parts)


def present_files(root: Path) -> tuple[list[str], list[str]]:
    """(regular files, anything else: symlinks, devices) under ``root``, relative paths."""
    files: list[str] = []
    odd: list[str] = []
    for directory, dirs, names in os.walk(root, followlinks=False):
        base = Path(directory)
        for name in list(dirs):
            if (base / name).is_symlink():  # os.walk does not descend into it: list it
                odd.append((base / name).relative_to(root).as_posix())
                dirs.remove(name)
        for name in names:
            path = base / name
            rel = path.relative_to(root).as_posix()
            (odd if path.is_symlink() or not path.is_file() else files).append(rel)
    return sorted(files), sorted(odd)


def check_files(root: Path, sums: dict[str, str], progress: Progress | None = None) -> FileCheck:
    """Compare ``root`` with its file list: hash every listed file, find extra ones."""
    result = FileCheck()
    files, odd = present_files(root)
    present = set(files)
    result.added = sorted({f for f in files if f not in sums and f not in UNLISTED} | set(odd))
    listed = sorted(sums)
    total = sum((root / p).stat().st_size for p in listed if p in present)
    done = 0
    for rel in listed:
        if rel not in present:
            result.missing.append(rel)
            continue
        path = root / rel
        size = path.stat().st_size
        if sha256_file(path, progress, done, total) != sums[rel]:
            result.altered.append(rel)
        done += size
    return result


def require_files(root: Path, sums: dict[str, str], progress: Progress | None = None) -> None:
    """:func:`check_files`, raising InstallError naming every difference."""
    check = check_files(root, sums, progress)
    if not check.ok:
        raise InstallError(
            f"the bundle at {root} does not match its signed file list ({check.describe()})",
            fix="nothing was installed; copy the bundle again from the release medium (or "
            "extract its tarball into an empty directory) and compare its SHA256SUMS "
            "signature as SECURITY.md describes",
        )
