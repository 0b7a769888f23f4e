"""The reading side of the audit log: search, the newest records, verification.

:class:`AuditReader` is mixed into :class:`~agent.audit.log.AuditLog`; it only reads,
under the same lock as the writes, so a verification sees one consistent snapshot.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import apsw
from pydantic import ValidationError

from agent.audit import merkle, store
from agent.audit.checkpoints import Checkpoint, checkpoint_from_row, read_checkpoint_dir
from agent.audit.errors import AuditUsageError
from agent.audit.keychain import ROTATION_EVENT, KeyChain, build_chain, is_rotation
from agent.audit.records import AuditRecord, record_from_row
from agent.audit.signing import CheckpointVerifier
from agent.audit.verify import Problem, VerifyReport, verify_rows
from agent.errors import IntegrityError


@contextlib.contextmanager
def _unreadable() -> Iterator[None]:
    """A page that fails decryption or a broken file: the whole database is suspect."""
    try:
        yield
    except (apsw.CorruptError, apsw.NotADBError) as exc:
        raise IntegrityError(
            f"the audit database cannot be read: {exc}",
            fix="restore data/audit.db from a backup, then `plantagent audit verify "
            "--checkpoint` against an exported checkpoint",
        ) from exc


class AuditReader:
    """Queries over the log's connection (the attributes are set by AuditLog)."""

    _conn: apsw.Connection
    _lock: threading.Lock
    log_id: str
    verifier: CheckpointVerifier
    export_dir: Path | None

    def key_chain(self) -> KeyChain:
        """The chain of audit signing keys of this log, trusting :attr:`verifier` (the
        site's current key); rotations that do not verify add no key."""
        with self._lock, _unreadable():
            return self._key_chain()[0]

    def _key_chain(self) -> tuple[KeyChain, list[Problem]]:
        rows = store.search(self._conn, store.SearchQuery(kind="key_change", text=ROTATION_EVENT))
        rotations = []
        for row in rows:
            try:
                record = record_from_row(tuple(row))
            except (ValueError, TypeError):
                continue  # verification reports the malformed row at its place
            if is_rotation(record):
                rotations.append(record)
        trusted = self.verifier.trusted if isinstance(self.verifier, KeyChain) else self.verifier
        return build_chain(self.log_id, trusted, rotations)

    def search(self, query: store.SearchQuery | None = None, **filters: Any) -> list[AuditRecord]:
        """Records matching a query (or keyword filters: since, until, actor, kind, tool,
        equipment, text, seq_from, seq_to, limit, newest_first), as models."""
        query = query or store.SearchQuery(**filters)
        with self._lock, _unreadable():
            rows = store.search(self._conn, query)
        try:
            return [record_from_row(tuple(r)) for r in rows]
        except (ValueError, TypeError) as exc:
            raise IntegrityError(
                f"a stored audit record is malformed: {str(exc).splitlines()[0]}",
                fix="run `plantagent audit verify` to find the first bad record",
            ) from None

    def last(self, n: int) -> list[AuditRecord]:
        """The newest ``n`` records, oldest first."""
        return list(reversed(self.search(limit=n, newest_first=True)))

    def size(self) -> int:
        """Number of records (the newest seq)."""
        with self._lock:
            return (store.last_record(self._conn) or (0, ""))[0]

    def database_records(self, page: int = 64) -> Iterator[tuple[int, dict[str, Any]]]:
        """(seq, payload) of every ``database`` record, newest first (the heads of the
        site's databases, agent/audit/heads.py), read a page at a time."""
        before = 2**62
        while True:
            with self._lock, _unreadable():
                rows = store.database_rows(self._conn, before, page)
            for seq, text in rows:
                try:
                    payload = json.loads(text)
                except ValueError:
                    continue  # a damaged record: verify names it
                if isinstance(payload, dict):
                    yield seq, payload
            if len(rows) < page:
                return
            before = rows[-1][0]

    def record_hashes(self, first: int, last: int) -> list[bytes]:
        """The stored hashes of records ``first``..``last``."""
        with self._lock:
            return [bytes.fromhex(h) for _, h in store.record_hashes(self._conn, first, last)]

    def inclusion_proof(self, seq: int, tree_size: int) -> list[str]:
        """The Merkle audit path (hex) proving record ``seq`` is in the tree of
        ``tree_size`` records, e.g. the size of a checkpoint an auditor holds."""
        if not 1 <= seq <= tree_size <= self.size():
            raise AuditUsageError(
                f"record {seq} is not in a tree of {tree_size} of a log of {self.size()}",
                fix="give 1 <= seq <= tree size <= the log's size",
            )
        leaves = self.record_hashes(1, tree_size)
        return [h.hex() for h in merkle.inclusion_proof(leaves, seq - 1)]

    def consistency_proof(self, old_size: int, new_size: int) -> list[str]:
        """The Merkle proof (hex) that the first ``old_size`` records are a prefix of the
        first ``new_size``: what links an old checkpoint to a new one."""
        if not 1 <= old_size <= new_size <= self.size():
            raise AuditUsageError(
                f"no consistency proof from {old_size} to {new_size} in a log of {self.size()}",
                fix="give 1 <= old size <= new size <= the log's size",
            )
        leaves = self.record_hashes(1, new_size)
        return [h.hex() for h in merkle.consistency_proof(leaves, old_size)]

    def stored_checkpoints(self) -> list[Checkpoint]:
        """Checkpoints stored in the database that parse (bad ones show up in verify)."""
        return [cp for _, cp in self._stored_checkpoints()[0]]

    def _stored_checkpoints(self) -> tuple[list[tuple[str, Checkpoint]], list[Problem]]:
        with self._lock, _unreadable():
            rows = store.raw_checkpoints(self._conn)
        good: list[tuple[str, Checkpoint]] = []
        bad: list[Problem] = []
        for index, row in enumerate(rows, start=1):
            name = f"db#{index}"
            try:
                good.append((name, checkpoint_from_row(tuple(row))))
            except (ValidationError, ValueError) as exc:
                bad.append(
                    Problem(message=f"stored checkpoint is malformed: {exc}", checkpoint=name)
                )
        return good, bad

    def verify(
        self,
        checkpoints: Sequence[tuple[str, Checkpoint]] = (),
        *,
        include_export_dir: bool = True,
        expect_checkpoint: bool = False,
    ) -> VerifyReport:
        """Verify the chain, the tree and every signature of the stored log.

        ``checkpoints`` are extra (name, checkpoint) pairs kept outside the database — an
        exported file — which also reveal truncation and rollback. The export directory's
        checkpoints are included unless ``include_export_dir`` is false.
        ``expect_checkpoint``: records that no checkpoint kept outside the database
        covers are a problem (a site's log signs one whenever it closes, so only removal
        or a crash leaves none).
        """
        named, problems = self._stored_checkpoints()
        stored = len(named)
        named.extend(checkpoints)
        if include_export_dir and self.export_dir is not None:
            exported, unreadable = read_checkpoint_dir(self.export_dir)
            named.extend(exported)
            problems.extend(Problem(message=m, checkpoint="export directory") for m in unreadable)
        if expect_checkpoint and self.size() and len(named) == stored:
            where = f" ({self.export_dir} holds none)" if self.export_dir is not None else ""
            problems.append(Problem(message=(
                "no signed checkpoint is kept outside the database" + where + (
                    ": nothing but the database itself vouches for its records, so a "
                    "rollback or a cut-off tail could not be seen" if stored else
                    " and the database holds none either: nothing vouches for the log at "
                    "all")),
                checkpoint="export directory"))
        with self._lock, _unreadable():
            stored_id = store.read_log_id(self._conn)
            if stored_id != self.log_id:
                problems.append(Problem(message=f"the log id changed to {stored_id}"))
            # A read transaction gives one consistent snapshot while appends go on.
            list(self._conn.execute("BEGIN"))
            try:
                chain, chain_problems = self._key_chain()
                return verify_rows(self.log_id, store.raw_records(self._conn), named, chain,
                                   [*problems, *chain_problems])
            finally:
                list(self._conn.execute("COMMIT"))
