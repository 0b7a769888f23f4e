"""Named, append-only schema migrations for the twin database's tables.

Each component (documents, incidents, ...) keeps its own list of (name, SQL) steps; a step
runs once, in order, inside a transaction, and is recorded in ``twin_migrations``. Steps
are never edited after release: a change is a new step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import apsw

#: A step is SQL text, or a function run with the connection (for DDL built at run time).
Step = tuple[str, str | Callable[[apsw.Connection], None]]


def apply_migrations(conn: apsw.Connection, component: str, steps: Sequence[Step]) -> int:
    """Run the steps of ``component`` not applied yet; return how many ran."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS twin_migrations("
        " component TEXT NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL,"
        " PRIMARY KEY (component, name))"
    )
    done = {
        row[0]
        for row in conn.execute(
            "SELECT name FROM twin_migrations WHERE component = ?", (component,)
        )
    }
    ran = 0
    for name, step in steps:
        if name in done:
            continue
        with conn:
            if callable(step):
                step(conn)
            else:
                for statement in step.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            conn.execute(
                "INSERT INTO twin_migrations(component, name, applied_at) VALUES (?, ?, ?)",
                (component, name, datetime.now(UTC).isoformat()),
            )
        ran += 1
    return ran


def meta_get(conn: apsw.Connection, key: str) -> str | None:
    """A value of the twin's key-value metadata table, or None."""
    conn.execute("CREATE TABLE IF NOT EXISTS twin_meta(key TEXT PRIMARY KEY, value TEXT)")
    for (value,) in conn.execute("SELECT value FROM twin_meta WHERE key = ?", (key,)):
        return str(value)
    return None


def meta_set(conn: apsw.Connection, key: str, value: str) -> None:
    """Set a value of the twin's key-value metadata table."""
    conn.execute("CREATE TABLE IF NOT EXISTS twin_meta(key TEXT PRIMARY KEY, value TEXT)")
    conn.execute(
        "INSERT INTO twin_meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
