"""Named, append-only schema migrations, the one helper of every site database.

Each component of a database (the audit log, the approvals, the triage reports, the
twin's documents, incidents, ...) keeps its own list of (name, SQL) steps. A step runs
once, in order, inside a transaction, and is recorded in the database's
``schema_migrations`` table (component, name, applied_at). Steps are never edited after
release: a change is a new step. ``PRAGMA user_version`` is kept equal to the number of
steps recorded, so an older plantagent that counted steps that way still sees how far a
database has gone.

Databases made before this helper are adopted without losing anything: the twin's
``twin_migrations`` table becomes ``schema_migrations``; an audit or approvals database
counted its steps in ``PRAGMA user_version`` only, and those first steps are recorded as
applied (``legacy_user_version=True``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import apsw

from agent.errors import VaultError

#: A step is SQL text, or a function run with the connection (for DDL built at run time).
Step = tuple[str, str | Callable[[apsw.Connection], None]]

MIGRATIONS_TABLE = "schema_migrations"
#: Where the twin recorded its steps before every database shared this helper.
_OLD_TWIN_TABLE = "twin_migrations"
#: ``applied_at`` of steps adopted from a database made before this helper.
ADOPTED = "adopted from user_version"


def _has_table(conn: apsw.Connection, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return row is not None


def _user_version(conn: apsw.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0]) if row else 0


def _create_table(conn: apsw.Connection, component: str, steps: Sequence[Step],
                  legacy_user_version: bool) -> None:
    """Create the bookkeeping table, carrying over what an older database recorded."""
    if _has_table(conn, _OLD_TWIN_TABLE):
        conn.execute(f"ALTER TABLE {_OLD_TWIN_TABLE} RENAME TO {MIGRATIONS_TABLE}")
        return
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE}("
        " component TEXT NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL,"
        " PRIMARY KEY (component, name))"
    )
    counted = _user_version(conn) if legacy_user_version else 0
    if counted > len(steps):
        raise _newer(component, f"schema {counted}")
    conn.executemany(
        f"INSERT OR IGNORE INTO {MIGRATIONS_TABLE}(component, name, applied_at) "
        "VALUES (?, ?, ?)",
        [(component, name, ADOPTED) for name, _ in steps[:counted]],
    )


def _newer(component: str, what: str) -> VaultError:
    return VaultError(
        f"the {component} database is from a newer plantagent ({what})",
        fix="upgrade plantagent on this machine",
    )


def applied(conn: apsw.Connection, component: str) -> list[str]:
    """Names of the steps of ``component`` recorded in the database, oldest first."""
    if not _has_table(conn, MIGRATIONS_TABLE):
        return []
    return [
        str(row[0])
        for row in conn.execute(
            f"SELECT name FROM {MIGRATIONS_TABLE} WHERE component = ? ORDER BY rowid",
            (component,),
        )
    ]


def apply_migrations(
    conn: apsw.Connection,
    component: str,
    steps: Sequence[Step],
    *,
    legacy_user_version: bool = False,
) -> int:
    """Run the steps of ``component`` not applied yet; return how many ran.

    ``legacy_user_version``: the database may come from code that counted this
    component's steps in ``PRAGMA user_version`` (the audit and approvals databases).
    A step recorded that ``steps`` does not know means a newer plantagent wrote the
    database: VaultError naming the fix, nothing is changed.
    """
    with conn:
        if not _has_table(conn, MIGRATIONS_TABLE):
            _create_table(conn, component, steps, legacy_user_version)
    done = set(applied(conn, component))
    unknown = done - {name for name, _ in steps}
    if unknown:
        raise _newer(component, f"step {sorted(unknown)[0]}")
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
                f"INSERT INTO {MIGRATIONS_TABLE}(component, name, applied_at) VALUES (?, ?, ?)",
                (component, name, datetime.now(UTC).isoformat()),
            )
        ran += 1
    _sync_user_version(conn)
    return ran


def _sync_user_version(conn: apsw.Connection) -> None:
    row = conn.execute(f"SELECT count(*) FROM {MIGRATIONS_TABLE}").fetchone()
    count = int(row[0]) if row else 0
    if _user_version(conn) != count:
        conn.execute(f"PRAGMA user_version = {count}")


def meta_get(conn: apsw.Connection, key: str) -> str | None:
    """A value of the database's key-value metadata table (``twin_meta``), or None."""
    conn.execute("CREATE TABLE IF NOT EXISTS twin_meta(key TEXT PRIMARY KEY, value TEXT)")
    for (value,) in conn.execute("SELECT value FROM twin_meta WHERE key = ?", (key,)):
        return str(value)
    return None


def meta_set(conn: apsw.Connection, key: str, value: str) -> None:
    """Set a value of the database's key-value metadata table (``twin_meta``)."""
    conn.execute("CREATE TABLE IF NOT EXISTS twin_meta(key TEXT PRIMARY KEY, value TEXT)")
    conn.execute(
        "INSERT INTO twin_meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
