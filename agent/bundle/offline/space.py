"""Disk space: checked before anything is written, and a full disk named when it happens.

The estimate is generous on purpose: an unpacked virtual environment takes about five
times its wheels (numpy, llama.cpp's libraries, .pyc files), the models take their size,
and the smoke test's demo site a little more.
"""

from __future__ import annotations

import errno
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .errors import InstallError

VENV_FACTOR = 6
SLACK = 64 << 20
DISK_FULL_TEXT = ("No space left on device", "Disk quota exceeded")


@dataclass(frozen=True)
class Need:
    """Bytes to be written under a directory (which may not exist yet)."""

    directory: Path
    size: int
    what: str


def existing_parent(path: Path) -> Path:
    """The nearest directory of ``path`` that exists (to ask its file system)."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_space(needs: list[Need]) -> None:
    """Refuse, before anything is written, when a file system has too little room."""
    by_device: dict[int, list[Need]] = {}
    for need in needs:
        by_device.setdefault(os.stat(existing_parent(need.directory)).st_dev, []).append(need)
    for group in by_device.values():
        where = existing_parent(group[0].directory)
        total = sum(n.size for n in group) + SLACK
        free = shutil.disk_usage(where).free
        if free < total:
            parts = ", ".join(f"{n.what} {gb(n.size)} in {n.directory}" for n in group)
            raise InstallError(
                f"not enough disk space: the install needs about {gb(total)} on the file "
                f"system of {where} ({parts}), and {gb(free)} is free",
                fix="free some space there, or pass --prefix (or --home) on another disk; "
                "nothing was installed",
            )


def gb(size: int) -> str:
    """A size in GB with two decimals."""
    return f"{size / 1e9:.2f} GB"


def is_disk_full(error: BaseException | str) -> bool:
    """True when an OSError or a tool's output says the disk (or quota) is full."""
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    return any(text in str(error) for text in DISK_FULL_TEXT)


def disk_full(step: str, where: Path) -> InstallError:
    """The error of a disk that filled up during ``step``."""
    return InstallError(
        f"the disk filled up while {step} (in {where})",
        fix="free some space there and run the installer again: it continues where it "
        "stopped, and the version installed before is still the one that runs",
    )
