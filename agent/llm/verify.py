"""Checking a model file against its manifest entry before anything loads it.

Hashing the default model takes a second or two, so a process verifies a file once and
remembers the result keyed by (path, size, mtime): a file replaced or touched since is
hashed again. ``plantagent models verify`` always rehashes.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path

from agent.errors import ModelError
from agent.llm.registry import SITE_MANIFEST_NAME, ModelEntry

#: progress(done_bytes, total_bytes)
ByteProgress = Callable[[int, int], None]

_CHUNK = 1 << 20


class VerificationCache:
    """Files this process has hashed and found matching, keyed by (path, size, mtime)."""

    def __init__(self) -> None:
        self._ok: set[tuple[str, int, int, str]] = set()
        self._lock = threading.Lock()

    @staticmethod
    def _key(path: Path, sha256: str) -> tuple[str, int, int, str]:
        st = path.stat()
        return (str(path.resolve()), st.st_size, st.st_mtime_ns, sha256)

    def is_verified(self, path: Path, sha256: str) -> bool:
        """True if ``path`` unchanged since it last matched ``sha256``."""
        with self._lock:
            return self._key(path, sha256) in self._ok

    def remember(self, path: Path, sha256: str) -> None:
        """Record that ``path`` as it is now matches ``sha256``."""
        with self._lock:
            self._ok.add(self._key(path, sha256))


def sha256_file(path: Path, progress: ByteProgress | None = None) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    return digest.hexdigest()


def verify_file(
    entry: ModelEntry,
    path: Path,
    *,
    cache: VerificationCache | None = None,
    force: bool = False,
    progress: ByteProgress | None = None,
) -> Path:
    """Check ``path`` is the file ``entry`` approves; return it, or raise ModelError.

    Missing, truncated (wrong size) and tampered (wrong hash) files are refused, each with
    the command that fixes it.
    """
    fetch = f"run `plantagent models fetch {entry.name}`"
    if not path.is_file():
        raise ModelError(
            f"model file {path} for {entry.name!r} does not exist",
            fix=f"{fetch} (or set model.directory to where it is)",
        )
    size = path.stat().st_size
    if size != entry.size:
        raise ModelError(
            f"model file {path} is {size:,} bytes but the manifest lists {entry.size:,} "
            "for it (truncated or a different file); it will not be loaded",
            fix=f"delete it and {fetch}",
        )
    if not force and cache is not None and cache.is_verified(path, entry.sha256):
        return path
    actual = sha256_file(path, progress)
    if actual != entry.sha256:
        raise ModelError(
            f"model file {path} has sha256 {actual}, but the manifest lists {entry.sha256} "
            f"for {entry.name!r} (damaged or tampered with); it will not be loaded",
            fix=f"delete it and {fetch}; if you trust this file, list it under its own name "
            f"with its sha256 in $PLANTAGENT_HOME/{SITE_MANIFEST_NAME}",
        )
    if cache is not None:
        cache.remember(path, entry.sha256)
    return path
