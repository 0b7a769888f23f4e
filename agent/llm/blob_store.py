"""A directory-backed BlobStore, for tests and benchmarks.

It writes plaintext files, so production code gets the vault's encrypted store instead
(the prefix state holds plant data). Writes are atomic (temporary file, then rename).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

_SAFE_NAME = re.compile(r"^[A-Za-z0-9._-]{1,200}$")


class DirectoryBlobStore:
    """Blobs as files in one directory; names are restricted to [A-Za-z0-9._-]."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, name: str) -> Path:
        if not _SAFE_NAME.match(name) or name.startswith("."):
            raise ValueError(f"unsafe blob name {name!r}")
        return self.directory / name

    def put(self, name: str, data: bytes) -> None:
        """Store ``data`` under ``name`` atomically."""
        path = self._path(name)
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def get(self, name: str) -> bytes | None:
        """The bytes under ``name``, or None."""
        path = self._path(name)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def names(self) -> list[str]:
        """Stored names, sorted (for tests)."""
        if not self.directory.is_dir():
            return []
        return sorted(p.name for p in self.directory.iterdir() if not p.name.startswith("."))
