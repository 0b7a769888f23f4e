"""The historian's tables in the twin database: raw samples, 1-minute rollups, retention.

Raw samples are keyed (tag, time) in a clustered WITHOUT ROWID table, so a window query
on one tag reads one contiguous range. Older raw data is folded into 1-minute rollups
(count, min, max, mean) by :meth:`Historian.downsample`, and everything older than the
retention is deleted by :meth:`Historian.apply_retention`.

Every method is blocking SQLite work: call it with ``asyncio.to_thread``. The twin
connection is shared with other components, so the historian serializes its use of it with
a lock: a transaction must not interleave with another thread's statements on the same
connection (apsw serializes single calls, not transactions). Components that write to one
connection from several threads should be given the same lock.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import apsw

from agent.errors import InvalidArgumentError
from agent.vault import translate_db_errors
from agent.vault.migrations import apply_migrations

GOOD, UNCERTAIN, BAD = 0, 1, 2
_QUALITY = {"good": GOOD, "uncertain": UNCERTAIN, "bad": BAD}

_MIGRATIONS = [
    (
        "0001_historian",
        """
        CREATE TABLE hist_tags(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
        CREATE TABLE hist_samples(
            tag_id INTEGER NOT NULL, t REAL NOT NULL, value REAL, quality INTEGER NOT NULL,
            PRIMARY KEY (tag_id, t)) WITHOUT ROWID;
        CREATE TABLE hist_rollup_1m(
            tag_id INTEGER NOT NULL, t INTEGER NOT NULL, n INTEGER NOT NULL,
            vmin REAL NOT NULL, vmax REAL NOT NULL, vmean REAL NOT NULL,
            PRIMARY KEY (tag_id, t)) WITHOUT ROWID
        """,
    ),
]


@contextlib.contextmanager
def guarded(conn: apsw.Connection, lock: threading.Lock) -> Iterator[None]:
    """Hold ``lock`` and turn apsw errors into ours (the boundary to SQLite). The file name
    is read under the lock: reading it while another thread uses the connection raises
    apsw's ThreadingViolationError."""
    with lock, translate_db_errors(Path(conn.filename or "twin.db")):
        yield


def quality_code(quality: str) -> int:
    """0 good, 1 uncertain, 2 bad (as stored)."""
    return _QUALITY.get(quality, BAD)


@dataclass(frozen=True)
class Sample:
    """One stored value: ``t`` in Unix seconds (UTC); ``value`` None for a bad reading."""

    tag: str
    t: float
    value: float | None
    quality: int = GOOD


@dataclass(frozen=True)
class Rollup:
    """One minute of a tag folded together; ``t`` is the minute's start (Unix seconds)."""

    t: int
    n: int
    vmin: float
    vmax: float
    vmean: float


@dataclass(frozen=True)
class MaintenanceReport:
    """What a downsample or retention pass did."""

    rolled_up: int = 0
    rollups_written: int = 0
    deleted_samples: int = 0
    deleted_rollups: int = 0


class Historian:
    """Raw samples and rollups of tags in one twin database connection."""

    def __init__(self, conn: apsw.Connection, *, lock: threading.Lock | None = None) -> None:
        """Open the historian's tables (migrating them); ``lock`` is shared by every
        component that writes to ``conn`` from worker threads (see the module doc)."""
        self.conn = conn
        self._lock = lock or threading.Lock()
        self._ids: dict[str, int] = {}
        with guarded(self.conn, self._lock):
            apply_migrations(conn, "historian", _MIGRATIONS)
            for tag_id, name in conn.execute("SELECT id, name FROM hist_tags"):
                self._ids[str(name)] = int(tag_id)

    # -- writing -------------------------------------------------------------------------

    def _id(self, name: str) -> int:
        """The id of tag ``name``, created on first use (call with the lock held)."""
        tag_id = self._ids.get(name)
        if tag_id is None:
            self.conn.execute("INSERT OR IGNORE INTO hist_tags(name) VALUES (?)", (name,))
            row = self.conn.execute("SELECT id FROM hist_tags WHERE name = ?", (name,)).fetchone()
            assert row is not None
            tag_id = self._ids[name] = int(row[0])
        return tag_id

    def insert_batch(self, samples: Sequence[Sample]) -> int:
        """Store samples in one transaction with one executemany; returns how many.

        A second sample of a tag with the same timestamp replaces the first.
        """
        if not samples:
            return 0
        with guarded(self.conn, self._lock), self.conn:
            rows = [(self._id(s.tag), s.t, s.value, s.quality) for s in samples]
            self.conn.executemany(
                "INSERT OR REPLACE INTO hist_samples(tag_id, t, value, quality) "
                "VALUES (?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def insert_one(self, sample: Sample) -> None:
        """Store one sample in its own transaction (the slow path; benchmarks compare)."""
        with guarded(self.conn, self._lock), self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO hist_samples(tag_id, t, value, quality) "
                "VALUES (?, ?, ?, ?)",
                (self._id(sample.tag), sample.t, sample.value, sample.quality),
            )

    # -- reading -------------------------------------------------------------------------

    def tag_names(self) -> list[str]:
        """Every tag the historian has seen."""
        with guarded(self.conn, self._lock):
            return [str(n) for (n,) in self.conn.execute("SELECT name FROM hist_tags ORDER BY id")]

    def samples(self, tag: str, start: float, end: float) -> list[Sample]:
        """Raw samples of ``tag`` with start <= t <= end, oldest first."""
        with guarded(self.conn, self._lock):
            tag_id = self._ids.get(tag)
            if tag_id is None:
                return []
            rows: list[Any] = self.conn.execute(
                "SELECT t, value, quality FROM hist_samples "
                "WHERE tag_id = ? AND t >= ? AND t <= ? ORDER BY t",
                (tag_id, start, end),
            ).fetchall()
        return [Sample(tag, float(t), None if v is None else float(v), int(q)) for t, v, q in rows]

    def rollups(self, tag: str, start: float, end: float) -> list[Rollup]:
        """1-minute rollups of ``tag`` whose minute starts in [start - 60, end], oldest first."""
        with guarded(self.conn, self._lock):
            tag_id = self._ids.get(tag)
            if tag_id is None:
                return []
            rows: list[Any] = self.conn.execute(
                "SELECT t, n, vmin, vmax, vmean FROM hist_rollup_1m "
                "WHERE tag_id = ? AND t > ? AND t <= ? ORDER BY t",
                (tag_id, start - 60.0, end),
            ).fetchall()
        return [Rollup(int(t), int(n), float(a), float(b), float(m)) for t, n, a, b, m in rows]

    def latest(self, tags: Iterable[str]) -> dict[str, Sample]:
        """The newest good sample of each tag that has one."""
        out: dict[str, Sample] = {}
        with guarded(self.conn, self._lock):
            for tag in tags:
                tag_id = self._ids.get(tag)
                if tag_id is None:
                    continue
                row = self.conn.execute(
                    "SELECT t, value FROM hist_samples WHERE tag_id = ? AND quality = 0 "
                    "AND value IS NOT NULL ORDER BY t DESC LIMIT 1",
                    (tag_id,),
                ).fetchone()
                if row is not None:
                    out[tag] = Sample(tag, float(row[0]), float(row[1]))
        return out

    def count(self) -> tuple[int, int]:
        """(raw samples, rollups) stored."""
        with guarded(self.conn, self._lock):
            raw = self.conn.execute("SELECT count(*) FROM hist_samples").fetchone()
            rolled = self.conn.execute("SELECT count(*) FROM hist_rollup_1m").fetchone()
        return int(raw[0]) if raw else 0, int(rolled[0]) if rolled else 0

    # -- maintenance ---------------------------------------------------------------------

    def downsample(self, older_than: datetime) -> MaintenanceReport:
        """Fold raw samples older than ``older_than`` into 1-minute rollups, delete them.

        The cut is moved down to a whole minute so no minute is split between raw and
        rolled-up data. A rollup that already exists (late samples) is merged, not replaced.
        """
        cut = float(int(older_than.timestamp() // 60) * 60)
        with guarded(self.conn, self._lock), self.conn:
            before = self.conn.execute("SELECT count(*) FROM hist_rollup_1m").fetchone()
            self.conn.execute(
                "INSERT INTO hist_rollup_1m(tag_id, t, n, vmin, vmax, vmean) "
                "SELECT tag_id, CAST(t / 60 AS INTEGER) * 60, count(*), min(value), "
                "max(value), avg(value) FROM hist_samples "
                "WHERE t < ? AND quality = 0 AND value IS NOT NULL "
                "GROUP BY tag_id, CAST(t / 60 AS INTEGER) "
                "ON CONFLICT(tag_id, t) DO UPDATE SET "
                "vmean = (vmean * n + excluded.vmean * excluded.n) / (n + excluded.n), "
                "n = n + excluded.n, vmin = min(vmin, excluded.vmin), "
                "vmax = max(vmax, excluded.vmax)",
                (cut,),
            )
            after = self.conn.execute("SELECT count(*) FROM hist_rollup_1m").fetchone()
            self.conn.execute("DELETE FROM hist_samples WHERE t < ?", (cut,))
            deleted = self.conn.changes()
        assert before is not None and after is not None
        return MaintenanceReport(rolled_up=deleted, rollups_written=int(after[0]) - int(before[0]))

    def apply_retention(self, days: float, now: datetime) -> MaintenanceReport:
        """Delete raw samples and rollups older than ``days`` before ``now``."""
        if days <= 0:
            raise InvalidArgumentError(
                f"a retention of {days} days", fix="keep history for at least one day"
            )
        cut = (now - timedelta(days=days)).timestamp()
        with guarded(self.conn, self._lock), self.conn:
            self.conn.execute("DELETE FROM hist_samples WHERE t < ?", (cut,))
            samples = self.conn.changes()
            self.conn.execute("DELETE FROM hist_rollup_1m WHERE t < ?", (cut,))
            rollups = self.conn.changes()
        return MaintenanceReport(deleted_samples=samples, deleted_rollups=rollups)
