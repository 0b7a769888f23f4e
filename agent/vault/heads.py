"""Generations and heads: a site database older than its last recorded state is refused.

Every site database carries a generation counter (table ``vault_generation``), raised
by one each time the database is opened with nobody else using it: a *session*. Its
*head* is the generation plus, once the session ends cleanly (its last user closes it),
the SHA-256 of the whole file. Each open and close is recorded in a
:class:`HeadRegistry`: for the audit database its own MAC'd head file (its roll-back is
caught by its signed checkpoints), for every other database the audit log (agent/audit
/heads.py), whose signed checkpoints cover those records.

Opening a database with nobody else using it checks it against the last recorded head:

- missing, while a head is recorded: refused (it was deleted or never restored);
- a generation lower than recorded: refused (an older copy was put back);
- a clean close recorded, and the file's digest differs: refused (a byte, a page or the
  whole file was changed since, e.g. a page of an older copy written over it), as is a
  WAL file next to a cleanly closed database (old pages replayed on open);
- a session recorded open (the process died): the generation must match; the content
  since that session's start is not vouched for (said in the README).

A database in use by another process is only checked for its generation. Recovery from
a refusal is an explicit, audited command (``plantagent recover``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import apsw
from pydantic import BaseModel, ConfigDict, ValidationError

from agent.errors import IntegrityError
from agent.vault import crypto
from agent.vault.fsutil import atomic_write

GENERATION_TABLE = "vault_generation"
HeadEvent = Literal["open", "close", "rekey", "recover"]


@dataclass(frozen=True)
class Head:
    """A database's state as recorded: its generation and, after a clean close (or a
    rekey, or a recovery), the digest of its file."""

    name: str
    generation: int
    digest: str | None
    event: HeadEvent
    #: Where the record is, for messages ("audit record 1234", "data/.audit.head").
    where: str = ""
    #: More to record with it (a recovery's reason and what was found); no secrets.
    detail: Mapping[str, object] = field(default_factory=dict)

    @property
    def closed(self) -> bool:
        """True when the file was at rest when recorded (its digest is the state)."""
        return self.digest is not None


class HeadRegistry(Protocol):
    """Where a database's heads are recorded and read back."""

    def last(self, name: str) -> Head | None:
        """The newest recorded head of database ``name`` (None: never recorded)."""
        ...

    def record(self, head: Head) -> None:
        """Record a new head; raises (fail closed) when it cannot be made durable."""
        ...

    def names(self) -> Iterator[str]:
        """The databases it holds heads of."""
        ...


class RefusedDatabase(IntegrityError):
    """A database that is missing, older than recorded, or changed at rest."""

    def __init__(self, name: str, path: Path, problem: str, head: Head | None) -> None:
        where = f" ({head.where})" if head is not None and head.where else ""
        super().__init__(
            f"the {name} database {path} {problem}{where}",
            fix=f"put back the right copy of {path.name}, or accept its state with "
            f"`plantagent recover accept {name} --reason TEXT` (recorded in the audit log); "
            "`plantagent recover status` shows every database",
        )
        self.name = name
        self.problem = problem


# -- the generation inside each database ------------------------------------------------


def read_generation(conn: apsw.Connection) -> int:
    """The database's generation (0 for a database made before generations)."""
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (GENERATION_TABLE,)
    ).fetchone()
    if row is None:
        return 0
    value = conn.execute(f"SELECT generation FROM {GENERATION_TABLE} WHERE id = 1").fetchone()
    return int(value[0]) if value else 0


def write_generation(conn: apsw.Connection, generation: int) -> None:
    """Set the database's generation (one committed transaction)."""
    with conn:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {GENERATION_TABLE} "
            "(id INTEGER PRIMARY KEY CHECK (id = 1), generation INTEGER NOT NULL)"
        )
        conn.execute(
            f"INSERT INTO {GENERATION_TABLE}(id, generation) VALUES (1, ?) "
            "ON CONFLICT(id) DO UPDATE SET generation = excluded.generation",
            (generation,),
        )


def file_digest(path: Path) -> str:
    """SHA-256 of a whole file, hex."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def wal_path(path: Path) -> Path:
    """The write-ahead log next to a database file."""
    return path.with_name(path.name + "-wal")


# -- checking a database against its head ------------------------------------------------


@dataclass(frozen=True)
class Found:
    """What a database file is now."""

    exists: bool
    generation: int = 0
    digest: str | None = None
    wal: bool = False


def problem_of(found: Found, head: Head | None) -> str | None:
    """Why a database found at rest (nobody else using it) must be refused, or None."""
    if head is None:
        return None
    if not found.exists:
        return (f"is missing, but its generation {head.generation} is recorded; it was "
                "deleted or never put back")
    if found.generation < head.generation:
        return (f"is an older copy: generation {found.generation}, but generation "
                f"{head.generation} is recorded")
    if found.generation > head.generation:
        # Raised by our own open before its record was written (a crash between the
        # two): a file without the key cannot raise it. Its content is not vouched for.
        return None
    if head.closed:
        if found.wal:
            return ("has a write-ahead log beside it although it was closed cleanly "
                    "(old pages would be replayed)")
        if found.digest != head.digest:
            return ("was altered since it was closed: its content differs from the "
                    "recorded digest (a byte, a page or the whole file replaced)")
    return None


def live_problem(generation: int, head: Head | None) -> str | None:
    """Why a database in use by another process must be refused, or None."""
    if head is not None and generation < head.generation:
        return (f"is an older copy: generation {generation}, but generation "
                f"{head.generation} is recorded")
    return None


# -- the audit database's own heads: a MAC'd file beside it -----------------------------


class _HeadFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    format: Literal["plantagent-db-head"] = "plantagent-db-head"
    site_id: str
    name: str
    generation: int
    digest: str | None
    event: HeadEvent
    mac: str = ""


class LocalHeads:
    """Heads kept in a MAC'd file per database (``data/.<name>.head``): the registry of
    the audit database, whose roll-back its signed checkpoints reveal, and of any
    database while no other registry is attached."""

    def __init__(self, data_dir: Path, mac_key: bytes, site_id: str) -> None:
        self._dir = data_dir
        self._key = mac_key
        self._site_id = site_id

    def path(self, name: str) -> Path:
        """The head file of database ``name``."""
        return self._dir / f".{name}.head"

    def _mac(self, head: _HeadFile) -> str:
        body = head.model_dump(mode="json", exclude={"mac"})
        return crypto.mac(self._key, json.dumps(body, sort_keys=True).encode())

    def last(self, name: str) -> Head | None:
        """The head in the file, None when there is no file; IntegrityError if altered."""
        path = self.path(name)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        altered = IntegrityError(
            f"the head file {path} was altered or is damaged",
            fix=f"remove {path} (the next open records a new head) and run "
            "`plantagent audit verify`",
        )
        try:
            head = _HeadFile.model_validate_json(raw)
        except ValidationError:
            raise altered from None
        if (not crypto.same(self._mac(head), head.mac) or head.site_id != self._site_id
                or head.name != name):
            raise altered
        return Head(name, head.generation, head.digest, head.event, where=f"{path.name}")

    def record(self, head: Head) -> None:
        """Write the head file atomically."""
        body = _HeadFile(site_id=self._site_id, name=head.name, generation=head.generation,
                         digest=head.digest, event=head.event)
        body = body.model_copy(update={"mac": self._mac(body)})
        atomic_write(self.path(head.name), body.model_dump_json().encode(), mode=0o600)

    def names(self) -> Iterator[str]:
        """Databases that have a head file."""
        for path in sorted(self._dir.glob(".*.head")):
            yield path.name[1 : -len(".head")]
