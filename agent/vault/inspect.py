"""Looking at a site's databases without opening a session: their state against their
heads (`plantagent recover status`), and the whole-file check (`plantagent audit verify`).

The whole-file check reads every page of each database through SQLite3 Multiple
Ciphers, which authenticates each page it decrypts (``PRAGMA integrity_check`` walks
every b-tree, the freelist trunks and the pointer maps; a scan of ``dbstat`` reads every
b-tree page). Pages on the freelist are not read that way: a database nobody is using
is also hashed whole and compared with its recorded head, which covers every byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import apsw

from agent.errors import VaultError
from agent.vault.db import open_database, translate_db_errors
from agent.vault.heads import (
    Found,
    Head,
    HeadRegistry,
    file_digest,
    live_problem,
    problem_of,
    read_generation,
    wal_path,
)
from agent.vault.sessions import UsersLock


@dataclass(frozen=True)
class DatabaseState:
    """One database as found, against its last recorded head."""

    name: str
    path: Path
    exists: bool
    generation: int | None
    head: Head | None
    in_use: bool
    problem: str | None
    #: Pages read and authenticated by the whole-file check (0 when not run).
    pages: int = 0
    free_pages: int = 0
    #: True when the whole file was hashed and matched its recorded head.
    digest_matched: bool = False

    @property
    def ok(self) -> bool:
        """True when nothing is wrong with it."""
        return self.problem is None

    def line(self) -> str:
        """One line for people."""
        if self.problem is not None:
            return f"{self.name:10} REFUSED  {self.problem}"
        if not self.exists:
            return f"{self.name:10} absent   (not created yet)"
        recorded = f"recorded {self.head.event} ({self.head.where})" if self.head else (
            "no head recorded yet")
        extra = []
        if self.pages:
            extra.append(f"{self.pages} pages authenticated")
        if self.digest_matched:
            extra.append("whole file matches its head")
        if self.in_use:
            extra.append("open now")
        more = f"; {', '.join(extra)}" if extra else ""
        return f"{self.name:10} ok       generation {self.generation}, {recorded}{more}"


def inspect_database(
    name: str, path: Path, key: bytes, registry: HeadRegistry | None, *,
    conn: apsw.Connection | None = None, whole_file: bool = False,
) -> DatabaseState:
    """The state of database ``name`` (no session: nothing is raised or recorded).

    ``conn``: this process's open connection to it, if any (the file is then in use).
    ``whole_file``: also read every page, and hash the file when nobody uses it.
    ``registry`` None: its heads are unknown (the audit log holding them is refused).
    """
    head = registry.last(name) if registry is not None else None
    if conn is not None:
        return _check_open(name, path, conn, head, whole_file, in_use=True)
    lock = UsersLock(path.with_name(f".{name}.lock"))
    try:
        if not lock.alone():
            mine = open_database(path, key, key_is_verified=True)
            try:
                return _check_open(name, path, mine, head, whole_file, in_use=True)
            finally:
                mine.close()
        if not path.is_file():
            return DatabaseState(name, path, False, None, head, False,
                                 problem_of(Found(exists=False), head))
        wal = wal_path(path).exists()
        digest = None if wal else file_digest(path)
        try:
            mine = open_database(path, key, key_is_verified=True)
        except VaultError as exc:
            return DatabaseState(name, path, True, None, head, False, exc.message)
        try:
            generation = read_generation(mine)
            problem = problem_of(Found(True, generation, digest, wal), head)
            state = _check_open(name, path, mine, head, whole_file, in_use=False)
        finally:
            mine.close()
        matched = (problem is None and head is not None and head.closed
                   and generation == head.generation and digest == head.digest)
        return DatabaseState(name, path, True, generation, head, False,
                             problem or state.problem, state.pages, state.free_pages,
                             digest_matched=matched)
    finally:
        lock.close()


def _check_open(name: str, path: Path, conn: apsw.Connection, head: Head | None,
                whole_file: bool, *, in_use: bool) -> DatabaseState:
    try:
        generation = read_generation(conn)
        pages = free = 0
        problem = live_problem(generation, head) if in_use else None
        if whole_file and problem is None:
            pages, free, problem = read_every_page(conn, path)
    except VaultError as exc:
        return DatabaseState(name, path, True, None, head, in_use, exc.message)
    return DatabaseState(name, path, True, generation, head, in_use, problem, pages, free)


def read_every_page(conn: apsw.Connection, path: Path) -> tuple[int, int, str | None]:
    """Authenticate every page SQLite can reach: (pages, free pages, problem or None)."""
    try:
        with translate_db_errors(path):
            check = [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
            (pages,), = conn.execute("SELECT count(*) FROM dbstat")
            (free,), = conn.execute("PRAGMA freelist_count")
    except VaultError as exc:
        return 0, 0, exc.message
    if check != ["ok"]:
        return 0, 0, f"failed its integrity check: {'; '.join(check[:3])}"
    return int(pages), int(free), None
