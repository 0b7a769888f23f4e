"""SQL of the audit database: schema migrations, rows in and out, search.

Functions here take an open apsw connection (keyed and configured by the vault: WAL,
synchronous=FULL) and do no transaction handling of their own: :mod:`agent.audit.writer`
and :mod:`agent.audit.log` decide where transactions begin and end. Migrations are named
and append-only, applied by the vault's one migration helper (:mod:`agent.vault.migrations`).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import apsw

from agent.audit.checkpoints import Checkpoint
from agent.audit.records import AuditRecord, format_ts
from agent.vault.layout import AUDIT_DATABASE
from agent.vault.migrations import apply_migrations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_records_and_checkpoints",
        """
        CREATE TABLE audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE records (
            seq INTEGER PRIMARY KEY,
            ts TEXT NOT NULL,
            kind TEXT NOT NULL,
            actor TEXT NOT NULL,
            role TEXT,
            tool TEXT,
            equipment TEXT,
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE INDEX records_ts ON records (ts);
        CREATE INDEX records_kind ON records (kind, seq);
        CREATE INDEX records_actor ON records (actor, seq);
        CREATE INDEX records_tool ON records (tool, seq);
        CREATE INDEX records_equipment ON records (equipment, seq);
        CREATE TABLE checkpoints (
            id INTEGER PRIMARY KEY,
            log_id TEXT NOT NULL,
            tree_size INTEGER NOT NULL,
            root_hash TEXT NOT NULL,
            ts TEXT NOT NULL,
            key_id TEXT NOT NULL,
            signature TEXT NOT NULL
        );
        """,
    ),
    (
        # Record format version (agent/audit/records.py): the records before it are all 1.
        "0002_record_version",
        "ALTER TABLE records ADD COLUMN version INTEGER NOT NULL DEFAULT 1;",
    ),
]

RECORD_COLUMNS = "seq, ts, kind, actor, role, tool, equipment, payload, prev_hash, hash, version"
CHECKPOINT_COLUMNS = "log_id, tree_size, root_hash, ts, key_id, signature"


def migrate(conn: apsw.Connection, new_log_id: str | None = None) -> str:
    """Apply pending migrations and return the log id; a new log takes ``new_log_id``
    (the id its site already names) or a random one."""
    # Databases made before the shared helper counted their steps in user_version.
    apply_migrations(conn, AUDIT_DATABASE, MIGRATIONS, legacy_user_version=True)
    with conn:
        log_id = _scalar(conn, "SELECT value FROM audit_meta WHERE key='log_id'")
        if log_id is None:
            log_id = new_log_id or secrets.token_hex(16)
            conn.execute("INSERT INTO audit_meta (key, value) VALUES ('log_id', ?)", (log_id,))
    return str(log_id)


def _scalar(conn: apsw.Connection, sql: str, params: tuple[Any, ...] = ()) -> Any:
    row = conn.execute(sql, params).fetchone()
    return None if row is None else row[0]


def read_log_id(conn: apsw.Connection) -> str | None:
    """The log id stored in the database, or None when it is missing."""
    value = _scalar(conn, "SELECT value FROM audit_meta WHERE key='log_id'")
    return None if value is None else str(value)


def last_record(conn: apsw.Connection) -> tuple[int, str] | None:
    """(seq, hash) of the newest record, or None for an empty log."""
    row = conn.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def hash_at(conn: apsw.Connection, seq: int) -> str | None:
    """The stored hash of record ``seq``, or None."""
    value = _scalar(conn, "SELECT hash FROM records WHERE seq = ?", (seq,))
    return None if value is None else str(value)


def insert_record(conn: apsw.Connection, record: AuditRecord) -> None:
    """Insert one sealed record."""
    conn.execute(
        f"INSERT INTO records ({RECORD_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        record.stored_row(),
    )


def insert_checkpoint(conn: apsw.Connection, checkpoint: Checkpoint) -> None:
    """Store one signed checkpoint."""
    conn.execute(
        f"INSERT INTO checkpoints ({CHECKPOINT_COLUMNS}) VALUES (?,?,?,?,?,?)",
        checkpoint.stored_row(),
    )


def raw_records(conn: apsw.Connection, after: int = 0) -> Iterator[tuple[Any, ...]]:
    """Stored record rows in seq order, unparsed (verification parses them itself)."""
    yield from conn.execute(
        f"SELECT {RECORD_COLUMNS} FROM records WHERE seq > ? ORDER BY seq", (after,)
    )


def record_hashes(conn: apsw.Connection, first: int, last: int) -> Iterator[tuple[int, str]]:
    """(seq, stored hash) of records first..last in seq order (Merkle frontier, reviews)."""
    yield from conn.execute(
        "SELECT seq, hash FROM records WHERE seq BETWEEN ? AND ? ORDER BY seq", (first, last)
    )


def database_rows(conn: apsw.Connection, before: int, limit: int) -> list[tuple[int, str]]:
    """(seq, payload text) of ``database`` records older than ``before``, newest first."""
    return [
        (int(seq), str(payload))
        for seq, payload in conn.execute(
            "SELECT seq, payload FROM records WHERE kind = 'database' AND seq < ? "
            "ORDER BY seq DESC LIMIT ?",
            (before, limit),
        )
    ]


def raw_checkpoints(conn: apsw.Connection) -> list[tuple[Any, ...]]:
    """Stored checkpoint rows, oldest first."""
    return list(conn.execute(f"SELECT {CHECKPOINT_COLUMNS} FROM checkpoints ORDER BY id"))


def last_checkpoint_size(conn: apsw.Connection) -> int:
    """Tree size of the newest stored checkpoint (0 when there is none)."""
    return int(_scalar(conn, "SELECT max(tree_size) FROM checkpoints") or 0)


@dataclass(frozen=True)
class SearchQuery:
    """Filters of :func:`search`; None means 'any'."""

    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None
    kind: str | None = None
    tool: str | None = None
    equipment: str | None = None
    text: str | None = None
    seq_from: int | None = None
    seq_to: int | None = None
    limit: int | None = None
    newest_first: bool = False


def search(conn: apsw.Connection, query: SearchQuery) -> list[tuple[Any, ...]]:
    """Record rows matching every given filter, in seq order (or newest first)."""
    where: list[str] = []
    params: list[Any] = []
    if query.since is not None:
        where.append("ts >= ?")
        params.append(format_ts(query.since))
    if query.until is not None:
        where.append("ts < ?")
        params.append(format_ts(query.until))
    for column in ("actor", "kind", "tool", "equipment"):
        value = getattr(query, column)
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if query.text:
        # instr() instead of LIKE: no wildcard escaping, and '%' in the text is literal.
        where.append("instr(lower(payload), lower(?)) > 0")
        params.append(query.text)
    if query.seq_from is not None:
        where.append("seq >= ?")
        params.append(query.seq_from)
    if query.seq_to is not None:
        where.append("seq <= ?")
        params.append(query.seq_to)
    sql = f"SELECT {RECORD_COLUMNS} FROM records"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY seq DESC" if query.newest_first else " ORDER BY seq"
    if query.limit is not None:
        sql += " LIMIT ?"
        params.append(query.limit)
    return list(conn.execute(sql, params))
