"""One database of an open site, from open to close: its users lock, its generation and
its head (the rules are in :mod:`agent.vault.heads`).

Opening takes the database's users lock (``data/.<name>.lock``, a ``flock``):
exclusively for a moment when nobody else holds it, which makes this open the start of a
session; shared otherwise. A session's first open checks the file against its last
recorded head, raises the generation and records the open; later opens (other
processes) check the generation only. Closing the connection and finding nobody else
holding the lock ends the session: the file's digest is recorded as its head.
"""

from __future__ import annotations

import fcntl
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import apsw

from agent.errors import VaultError
from agent.vault.db import open_database, translate_db_errors
from agent.vault.heads import (
    Found,
    Head,
    HeadEvent,
    HeadRegistry,
    RefusedDatabase,
    file_digest,
    live_problem,
    problem_of,
    read_generation,
    wal_path,
    write_generation,
)

#: How long an open waits for another process's session start to finish.
WAIT_S = 30.0


class UsersLock:
    """The ``flock`` every user of one database holds: shared while using it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def join(self) -> bool:
        """Hold the lock; True when nobody else did (held exclusively until :meth:`share`)."""
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        deadline = time.monotonic() + WAIT_S
        while True:  # another opener holds it exclusively for its check: a moment
            try:
                fcntl.flock(self._fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                return False
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self.close()
                    raise VaultError(
                        f"the database beside {self.path} stayed locked for {WAIT_S:g} s",
                        fix="another plantagent process is stuck opening it; stop it and "
                        "run the command again",
                    ) from None
                time.sleep(0.01)

    def alone(self) -> bool:
        """Hold the lock exclusively if nobody holds it (True); never waits."""
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def share(self) -> None:
        """Let others join."""
        fcntl.flock(self._fd, fcntl.LOCK_SH)

    def leave_last(self) -> bool:
        """True when nobody else holds the lock (then it is held exclusively until
        :meth:`close`); a failed attempt gives up this process's share, as leaving does."""
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def close(self) -> None:
        """Release it."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


@dataclass
class Session:
    """One open database of a site."""

    name: str
    path: Path
    conn: apsw.Connection
    generation: int
    lock: UsersLock = field(repr=False)
    registry: HeadRegistry = field(repr=False)


def open_session(
    name: str,
    path: Path,
    key: bytes,
    registry: HeadRegistry,
    *,
    create: bool,
    synchronous_full: bool,
    recover: dict[str, object] | None = None,
) -> Session:
    """Open database ``name`` checked against ``registry`` (see the module docstring).

    ``recover`` (a person's reason and who they are) accepts the file as it is found,
    or a new empty one when it is missing, and records that instead of refusing.
    """
    lock = UsersLock(path.with_name(f".{name}.lock"))
    try:
        first = lock.join()
        head = registry.last(name)
        if first:
            conn, generation = _start(name, path, key, registry, head, create=create,
                                      synchronous_full=synchronous_full, recover=recover)
            lock.share()
        else:
            conn = open_database(path, key, create=create, synchronous_full=synchronous_full,
                                 key_is_verified=True)
            try:
                with translate_db_errors(path):
                    generation = read_generation(conn)
                problem = live_problem(generation, head)
                if problem is not None:
                    raise RefusedDatabase(name, path, problem, head)
            except BaseException:
                conn.close()
                raise
    except BaseException:
        lock.close()
        raise
    return Session(name, path, conn, generation, lock, registry)


def _start(
    name: str, path: Path, key: bytes, registry: HeadRegistry, head: Head | None, *,
    create: bool, synchronous_full: bool, recover: dict[str, object] | None,
) -> tuple[apsw.Connection, int]:
    """A session's first open: check at rest, raise the generation, record the open."""
    exists = path.is_file()
    digest = file_digest(path) if exists and not wal_path(path).exists() else None
    if recover is None and head is not None and head.closed and (
            not exists or digest != head.digest):
        # Checked before SQLite replays or writes anything; its generation says which way
        # it changed (a newer one: our own open whose record a crash cut off).
        found = Found(exists=exists, generation=_generation_or(path, key, head.generation),
                      digest=digest, wal=exists and digest is None)
        problem = problem_of(found, head)
        if problem is not None:
            raise RefusedDatabase(name, path, problem, head)
    if not exists and head is not None and recover is None:
        raise RefusedDatabase(name, path, problem_of(Found(exists=False), head) or "", head)
    conn = open_database(path, key, create=create or recover is not None,
                         synchronous_full=synchronous_full, key_is_verified=True)
    try:
        with translate_db_errors(path):
            generation = read_generation(conn) if exists else 0
        found = Found(exists=exists, generation=generation, digest=digest,
                      wal=exists and digest is None)
        problem = problem_of(found, head)
        if problem is not None and recover is None:
            raise RefusedDatabase(name, path, problem, head)
        generation = max(found.generation, head.generation if head else 0) + 1
        with translate_db_errors(path, "raising its generation"):
            write_generation(conn, generation)
        detail: dict[str, object] = {}
        event: HeadEvent = "open"
        if recover is not None:
            event = "recover"
            detail = {**recover, "problem": problem or "none",
                      "found": {"exists": exists, "generation": found.generation,
                                "digest": digest},
                      "recorded": None if head is None else {
                          "generation": head.generation, "digest": head.digest,
                          "event": head.event, "where": head.where}}
        registry.record(Head(name, generation, None, event, detail=detail))
    except BaseException:
        conn.close()
        raise
    return conn, generation


def _generation_or(path: Path, key: bytes, default: int) -> int:
    """The generation of a file already refused, for the message; ``default`` when it
    cannot be read (an altered page)."""
    if not path.is_file() or wal_path(path).exists():
        return default  # never let SQLite replay (and checkpoint) a WAL of a refused file
    try:
        conn = open_database(path, key, key_is_verified=True)
    except VaultError:
        return default
    try:
        with translate_db_errors(path):
            return read_generation(conn)
    except VaultError:
        return default
    finally:
        conn.close()


def close_session(session: Session) -> Head | None:
    """Close the connection; when it was the last user, record the file's head."""
    try:
        try:
            generation = read_generation(session.conn)
        except apsw.Error:
            generation = session.generation
        session.conn.close()
        if not session.lock.leave_last():
            return None
        digest = None
        if session.path.is_file() and not wal_path(session.path).exists():
            digest = file_digest(session.path)
        head = Head(session.name, generation, digest, "close")
        session.registry.record(head)
        return head
    finally:
        session.lock.close()

