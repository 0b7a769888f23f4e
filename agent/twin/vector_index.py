"""An in-memory exact vector index over vectors kept in an encrypted site database.

The vectors stay encrypted at rest (only the site's databases hold them); a process
decrypts them once, on its first search, into one float32 matrix, and answers every
query with a matrix-vector product and a partial sort: NumPy brute force, which on 2 cores
beats sqlite-vec's scan of the encrypted pages tenfold at 100,000 vectors and returns the
same neighbours (it is the same exact search). Writers call :meth:`invalidate`; the next
search loads again. Reusable for any unit vectors (document chunks, tag descriptions).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import numpy as np

#: Yields (id, float32 vector bytes) of every stored vector.
VectorSource = Callable[[], Iterable[tuple[int, bytes]]]


class VectorIndex:
    """Exact cosine top-k over unit vectors, loaded from ``source`` when needed."""

    def __init__(self, source: VectorSource, dim: int,
                 version: Callable[[], int] | None = None) -> None:  # fmt: skip
        """``version`` (e.g. SQLite's ``PRAGMA data_version``) changes when another
        connection writes: the vectors are then loaded again."""
        self._source = source
        self._dim = dim
        self._version = version
        self._seen_version: int | None = None
        self._lock = threading.Lock()
        self._ids: np.ndarray | None = None
        self._matrix: np.ndarray | None = None

    def invalidate(self) -> None:
        """Forget the loaded vectors (after a write); the next search reloads them."""
        with self._lock:
            self._ids = self._matrix = None

    def __len__(self) -> int:
        ids, _ = self._loaded()
        return len(ids)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(id, cosine similarity) of the ``k`` nearest vectors, best first (ties by id)."""
        ids, matrix = self._loaded()
        if len(ids) == 0 or k <= 0:
            return []
        scores = matrix @ np.asarray(query, dtype=np.float32)
        k = min(k, len(ids))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(ids) else np.arange(len(ids))
        order = top[np.lexsort((ids[top], -scores[top]))]
        return [(int(ids[i]), float(scores[i])) for i in order]

    def _loaded(self) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            version = self._version() if self._version is not None else None
            if version != self._seen_version:
                self._ids = self._matrix = None
            if self._ids is None or self._matrix is None:
                self._seen_version = version
                rows = list(self._source())
                self._ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                matrix = np.empty((len(rows), self._dim), dtype=np.float32)
                for i, (_, blob) in enumerate(rows):
                    matrix[i] = np.frombuffer(blob, dtype=np.float32)
                self._matrix = matrix
            return self._ids, self._matrix
