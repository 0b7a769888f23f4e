"""The site's alarm database (encrypted, the vault's ``alarms`` database): shelve
requests, the alarm journal (every condition event the agent heard) and the journal's
coverage (when it was listening).

State changes of requests are compare-and-set (``UPDATE ... WHERE state = ?``), so two
processes can not both approve, or both execute, one request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import apsw

from agent.alarms.requests import ShelveRequest, ShelveState
from agent.errors import VaultError
from tools.opcua.models import ConditionState

DATABASE_NAME = "alarms"

#: Append-only: never edit a shipped step, add the next one. user_version = steps applied.
MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("001_shelve_requests_and_journal", """
        CREATE TABLE shelve_requests (
            id TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            created_at TEXT NOT NULL,
            record TEXT NOT NULL
        );
        CREATE INDEX shelve_requests_state ON shelve_requests(state);
        CREATE TABLE journal_events (
            id INTEGER PRIMARY KEY,
            time TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            record TEXT NOT NULL
        );
        CREATE INDEX journal_events_time ON journal_events(time);
        CREATE TABLE journal_coverage (
            id INTEGER PRIMARY KEY,
            start TEXT NOT NULL,
            end TEXT NOT NULL,
            endpoint TEXT NOT NULL
        );
    """),
)


def _iso(moment: datetime) -> str:
    # Fixed width and one zone, so text order is time order.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class AlarmStore:
    """Shelve requests, journal events and coverage over one open apsw connection."""

    def __init__(self, conn: apsw.Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        with self._guard():
            self._migrate()

    @classmethod
    def open(cls, connect: Callable[[], apsw.Connection]) -> AlarmStore:
        """The store on the connection ``connect`` returns, e.g.
        ``lambda: site.database("alarms", synchronous_full=True)``."""
        return cls(connect())

    def _migrate(self) -> None:
        version = int(next(iter(self._conn.execute("PRAGMA user_version")))[0])
        if version > len(MIGRATIONS):
            raise VaultError(
                f"the alarms database is from a newer plantagent (schema {version})",
                fix="upgrade plantagent on this machine",
            )
        for number, (_name, sql) in enumerate(MIGRATIONS[version:], start=version + 1):
            with self._conn:
                self._conn.execute(sql)
                self._conn.execute(f"PRAGMA user_version = {number}")

    def _guard(self) -> _Translate:
        return _Translate(self._lock)

    # -- shelve requests ----------------------------------------------------------------

    def insert(self, request: ShelveRequest) -> None:
        """Store a new request."""
        with self._guard():
            self._conn.execute(
                "INSERT INTO shelve_requests(id, state, created_at, record) VALUES (?,?,?,?)",
                (request.id, request.state, _iso(request.created_at),
                 request.model_dump_json()))

    def get(self, request_id: str) -> ShelveRequest | None:
        """The request with this id, or None."""
        with self._guard():
            rows = list(self._conn.execute(
                "SELECT record FROM shelve_requests WHERE id = ?", (request_id,)))
        return ShelveRequest.model_validate_json(rows[0][0]) if rows else None

    def requests(self, states: set[ShelveState] | None = None) -> list[ShelveRequest]:
        """Requests, newest first, optionally only in ``states``."""
        wanted = sorted(states) if states is not None else []
        where = f"WHERE state IN ({', '.join('?' * len(wanted))})" if states is not None else ""
        with self._guard():
            rows = list(self._conn.execute(
                f"SELECT record FROM shelve_requests {where} ORDER BY created_at DESC, id",
                wanted))
        return [ShelveRequest.model_validate_json(r[0]) for r in rows]

    def transition(self, request: ShelveRequest, expected: ShelveState) -> bool:
        """Store ``request`` only if the stored state is still ``expected``."""
        with self._guard():
            self._conn.execute(
                "UPDATE shelve_requests SET state = ?, record = ? WHERE id = ? AND state = ?",
                (request.state, request.model_dump_json(), request.id, expected))
            return bool(self._conn.changes())

    # -- the journal --------------------------------------------------------------------

    def add_events(self, events: list[ConditionState]) -> None:
        """Append condition events (one transaction)."""
        if not events:
            return
        with self._guard(), self._conn:
            self._conn.executemany(
                "INSERT INTO journal_events(time, condition_id, record) VALUES (?, ?, ?)",
                [(_iso(e.time), e.condition_id, e.model_dump_json()) for e in events
                 if e.time is not None])

    def events(self, since: datetime, until: datetime) -> list[ConditionState]:
        """Journal events in [since, until], oldest first."""
        with self._guard():
            rows = list(self._conn.execute(
                "SELECT record FROM journal_events WHERE time >= ? AND time <= ? "
                "ORDER BY time, id", (_iso(since), _iso(until))))
        return [ConditionState.model_validate_json(r[0]) for r in rows]

    def open_segment(self, start: datetime, endpoint: str) -> int:
        """A new span of listening; returns its id (extended by :meth:`extend_segment`)."""
        with self._guard():
            self._conn.execute(
                "INSERT INTO journal_coverage(start, end, endpoint) VALUES (?, ?, ?)",
                (_iso(start), _iso(start), endpoint))
            return int(self._conn.last_insert_rowid())

    def extend_segment(self, segment: int, end: datetime) -> None:
        """The span ``segment`` lasted at least until ``end``."""
        with self._guard():
            self._conn.execute("UPDATE journal_coverage SET end = ? WHERE id = ?",
                               (_iso(end), segment))

    def coverage(self, since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
        """Spans of listening that overlap [since, until], clipped to it, oldest first."""
        with self._guard():
            rows = list(self._conn.execute(
                "SELECT start, end FROM journal_coverage WHERE end >= ? AND start <= ? "
                "ORDER BY start", (_iso(since), _iso(until))))
        return [(max(datetime.fromisoformat(a), since), min(datetime.fromisoformat(b), until))
                for a, b in rows]


class _Translate:
    """Holds the lock and turns apsw errors into VaultError at this boundary."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self._lock.release()
        if isinstance(exc, apsw.Error):
            raise VaultError(
                f"the alarms database failed: {exc}",
                fix="check the site directory is writable and not full",
            ) from exc
