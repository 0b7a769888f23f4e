"""File helpers shared by the vault tests (the site constants are tests/support's)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.support.sites import FAST_KDF, PASSPHRASE

__all__ = ["FAST_KDF", "PASSPHRASE", "file_hashes", "flip_byte"]


def file_hashes(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root``, by relative path."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def flip_byte(path: Path, offset: int) -> None:
    """Flip the lowest bit of one byte of a file in place."""
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
