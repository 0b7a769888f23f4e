"""File-system helpers: atomic owner-only writes and the site lock."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from agent.errors import VaultError


def fsync_dir(directory: Path) -> None:
    """Flush a directory entry so a rename or a new file survives a power cut."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` so a reader sees the old or the new file, never a mix.

    The temporary file is created with ``mode`` from the start (no window in which it is
    readable by others), flushed, renamed over ``path`` and the directory is flushed.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def create_new(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Create ``path`` complete or not at all; FileExistsError if it already exists.

    The data is written to a temporary file first and hard-linked into place, so a crash
    never leaves a half-written file and a racing writer never gets overwritten.
    """
    tmp = path.with_name(f".{path.name}.new")
    tmp.unlink(missing_ok=True)
    write_new(tmp, data, mode=mode)
    try:
        os.link(tmp, path)
    finally:
        tmp.unlink()
    fsync_dir(path.parent)


def write_new(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Create ``path`` with ``data``; fail with FileExistsError rather than overwrite."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(path.parent)


@contextlib.contextmanager
def site_lock(home: Path, *, exclusive: bool) -> Iterator[None]:
    """Hold the site lock: shared while a site is open, exclusive while keys rotate.

    flock is released by the kernel when the process dies, so a crash never leaves a
    stale lock behind.
    """
    if not (home / "site.json").is_file():
        raise VaultError(
            f"the directory {home} is not a plantagent site (no site.json)",
            fix=f"run `plantagent init --home {home}` to create a site there, "
            "or point --home / PLANTAGENT_HOME at an existing site",
        )
    fd = os.open(home / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        flags = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
        try:
            fcntl.flock(fd, flags)
        except BlockingIOError:
            raise VaultError(
                f"the site {home} is in use by another plantagent process",
                fix="stop the other process (agent service, TUI) and run the command again",
            ) from None
        yield
    finally:
        os.close(fd)
