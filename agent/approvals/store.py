"""Approval requests in an encrypted SQLite database (the vault's ``approvals`` database).

State changes are compare-and-set (``UPDATE ... WHERE state = ?``), so two processes can
not both approve, or both execute, one request: the loser sees that nothing changed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import apsw

from agent.approvals.models import ApprovalRequest, ApprovalState
from agent.vault.db import db_error
from agent.vault.layout import APPROVALS_DATABASE
from agent.vault.migrations import apply_migrations

#: Append-only: never edit a shipped step, add the next one (agent.vault.migrations).
MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("001_create_approvals", """
        CREATE TABLE approvals (
            id TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            created_at TEXT NOT NULL,
            record TEXT NOT NULL
        );
        CREATE INDEX approvals_state ON approvals(state);
    """),
)


class ApprovalStore:
    """Approval requests by id, over one open (encrypted) apsw connection."""

    def __init__(self, conn: apsw.Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        # Read once: even the file name of a connection another thread is using raises
        # apsw's ThreadingViolationError, and _guard runs before it holds the lock.
        self._path = Path(conn.filename or "approvals.db")
        with self._guard():
            self._migrate()

    def _migrate(self) -> None:
        # Databases made before the shared helper counted their steps in user_version.
        apply_migrations(self._conn, APPROVALS_DATABASE, MIGRATIONS, legacy_user_version=True)

    @classmethod
    def open(cls, connect: Callable[[], apsw.Connection]) -> ApprovalStore:
        """The store on the connection ``connect`` returns, e.g.
        ``lambda: site.database(APPROVALS_DATABASE, synchronous_full=True)``."""
        return cls(connect())

    def _guard(self) -> _Translate:
        return _Translate(self._lock, self._path)

    def insert(self, request: ApprovalRequest) -> None:
        """Store a new request (its id must be new)."""
        with self._guard():
            self._conn.execute(
                "INSERT INTO approvals(id, state, created_at, record) VALUES (?, ?, ?, ?)",
                (request.id, request.state, request.created_at.isoformat(),
                 request.model_dump_json()),
            )

    def get(self, request_id: str) -> ApprovalRequest | None:
        """The request with this id, or None."""
        with self._guard():
            rows = list(self._conn.execute(
                "SELECT record FROM approvals WHERE id = ?", (request_id,)
            ))
        return ApprovalRequest.model_validate_json(rows[0][0]) if rows else None

    def requests(self, states: set[ApprovalState] | None = None) -> list[ApprovalRequest]:
        """Requests, newest first, optionally only in ``states``."""
        wanted = sorted(states) if states is not None else []
        where = f"WHERE state IN ({', '.join('?' * len(wanted))})" if states is not None else ""
        with self._guard():
            rows = list(self._conn.execute(
                f"SELECT record FROM approvals {where} ORDER BY created_at DESC, id", wanted
            ))
        return [ApprovalRequest.model_validate_json(r[0]) for r in rows]

    def transition(self, request: ApprovalRequest, expected: ApprovalState) -> bool:
        """Store ``request`` (its new state included) only if the stored state is still
        ``expected``; False when someone else changed it first."""
        with self._guard():
            self._conn.execute(
                "UPDATE approvals SET state = ?, record = ? WHERE id = ? AND state = ?",
                (request.state, request.model_dump_json(), request.id, expected),
            )
            return bool(self._conn.changes())


class _Translate:
    """Holds the lock and turns apsw errors into ours at this boundary, the fix fitting
    the cause (a damaged file, a full disk, a lock held elsewhere)."""

    def __init__(self, lock: threading.Lock, path: Path) -> None:
        self._lock = lock
        self._path = path

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self._lock.release()
        if isinstance(exc, apsw.Error):
            raise db_error(exc, self._path, "using the approvals") from exc
