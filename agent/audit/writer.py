"""The write path of the audit log: :class:`AuditWriter` is the part of
:class:`~agent.audit.log.AuditLog` that makes a record durable and signs checkpoints.

Appends are group-committed (:mod:`agent.audit.commit`): records that arrive together
from several threads are written in one ``BEGIN IMMEDIATE`` transaction with one fsync,
and each caller returns only once the commit covering its record has returned. The
transaction reads the previous hash inside it, so several processes may append to one
log. Every ``checkpoint_every`` records, the same transaction stores a signed
checkpoint; when an export directory is set, the checkpoint is also written there as a
write-once file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any, get_args

import apsw
from pydantic import ValidationError

from agent.audit import store
from agent.audit.checkpoints import (
    Checkpoint,
    checkpoint_from_row,
    sign_checkpoint,
    write_checkpoint_file,
)
from agent.audit.commit import GroupCommit, Pending
from agent.audit.errors import AuditWriteError
from agent.audit.merkle import Frontier
from agent.audit.reader import AuditReader
from agent.audit.records import (
    AuditKind,
    AuditRecord,
    genesis_hash,
    prepare_payload,
    seal_record,
)
from agent.audit.signing import CheckpointSigner
from agent.audit.witness import WitnessSender

Clock = Callable[[], datetime]
_KINDS = frozenset(get_args(AuditKind))


class AuditWriter(AuditReader):
    """Appends and checkpoints over the log's connection (the attributes are set by
    AuditLog)."""

    signer: CheckpointSigner
    clock: Clock
    checkpoint_every: int | None
    witness: WitnessSender | None
    _frontier: Frontier
    _frontier_last: str
    _closed: bool
    _group: GroupCommit

    def append(
        self,
        kind: str,
        actor: str,
        payload: dict[str, Any],
        *,
        role: str | None = None,
        tool: str | None = None,
        equipment: str | None = None,
    ) -> AuditRecord:
        """Append one record durably and return it; AuditWriteError otherwise (fail closed).

        ``kind`` is one of :data:`~agent.audit.records.AuditKind`. When the record is
        stored but its periodic checkpoint cannot be exported, this raises too: the
        record says the action was about to happen, and it must then not happen.
        """
        if kind not in _KINDS:
            raise AuditWriteError(
                f"unknown audit record kind {kind!r}",
                fix=f"use one of: {', '.join(sorted(_KINDS))}",
            )
        try:  # here, not in the batch's leader: writers prepare theirs side by side
            prepared = prepare_payload(payload)
        except (ValueError, TypeError) as exc:
            raise AuditWriteError(
                f"the audit record is invalid: {str(exc).splitlines()[0]}",
                fix="pass a JSON object payload and non-empty actor",
            ) from None
        item = self._group.submit(
            lambda seq, prev: seal_record(
                seq=seq,
                ts=self.clock(),
                kind=kind,
                actor=actor,
                role=role,
                tool=tool,
                equipment=equipment,
                payload=prepared,
                prev_hash=prev,
            )
        )
        if item.error is not None:
            raise item.error
        assert item.record is not None
        if item.checkpoint is not None and self.export_dir is not None:
            write_checkpoint_file(self.export_dir, item.checkpoint)
            if self.witness is not None:
                self.witness.notify()
        return item.record

    async def append_async(
        self,
        kind: str,
        actor: str,
        payload: dict[str, Any],
        *,
        role: str | None = None,
        tool: str | None = None,
        equipment: str | None = None,
    ) -> AuditRecord:
        """:meth:`append` off the event loop (the fsync blocks for milliseconds)."""
        return await asyncio.to_thread(
            self.append, kind, actor, payload, role=role, tool=tool, equipment=equipment
        )

    def checkpoint(self) -> Checkpoint:
        """Sign and store a checkpoint of the whole log now (also exported, if set).

        When the newest checkpoint already covers every record, that one is returned.
        """
        with self._lock:
            self._check_open()
            try:
                list(self._conn.execute("BEGIN IMMEDIATE"))
                try:
                    size = (store.last_record(self._conn) or (0, ""))[0]
                    rows = store.raw_checkpoints(self._conn)
                    latest = [r for r in rows if r[1] == size]
                    if latest:
                        list(self._conn.execute("ROLLBACK"))
                        return checkpoint_from_row(latest[-1])
                    checkpoint = self._sign_checkpoint(size)
                    store.insert_checkpoint(self._conn, checkpoint)
                    list(self._conn.execute("COMMIT"))
                except BaseException:
                    self._rollback()
                    raise
            except apsw.Error as exc:
                raise AuditWriteError(
                    f"cannot write an audit checkpoint: {exc}",
                    fix="check the audit database's disk is writable and not full",
                ) from exc
        if self.export_dir is not None:
            write_checkpoint_file(self.export_dir, checkpoint)
            if self.witness is not None:
                self.witness.notify()
        return checkpoint

    def _write_batch(self, batch: list[Pending]) -> None:
        """Write a batch of records in one transaction (called by the group's leader).

        A record that does not validate fails alone; a database error fails the whole
        batch (nothing of it was committed).
        """
        with self._lock:
            try:
                self._check_open()
            except AuditWriteError as exc:
                for pending in batch:
                    pending.error = exc
                return
            try:
                self._write_in_transaction(batch)
            except apsw.Error as exc:
                self._rollback()
                failed = AuditWriteError(
                    f"the audit record could not be written: {exc}",
                    fix="free disk space / check the audit database is writable; the action "
                    "was not performed",
                )
                for pending in batch:
                    pending.record, pending.checkpoint, pending.error = None, None, failed
            except BaseException:
                self._rollback()
                raise

    def _write_in_transaction(self, batch: list[Pending]) -> None:
        list(self._conn.execute("BEGIN IMMEDIATE"))
        last = store.last_record(self._conn)
        seq, prev = (last[0] + 1, last[1]) if last else (1, genesis_hash(self.log_id))
        every = self.checkpoint_every
        checkpointed = store.last_checkpoint_size(self._conn) if every else 0
        for pending in batch:
            try:
                record = pending.make(seq, prev)
            except (ValidationError, ValueError, TypeError) as exc:
                pending.error = AuditWriteError(
                    f"the audit record is invalid: {str(exc).splitlines()[0]}",
                    fix="pass a JSON object payload and non-empty actor",
                )
                continue
            store.insert_record(self._conn, record)
            pending.record = record
            if every and seq - checkpointed >= every:
                pending.checkpoint = self._sign_checkpoint(seq)
                store.insert_checkpoint(self._conn, pending.checkpoint)
                checkpointed = seq
            seq, prev = seq + 1, record.hash
        list(self._conn.execute("COMMIT"))

    def _check_open(self) -> None:
        if self._closed:
            raise AuditWriteError(
                "the audit log is closed", fix="open it again before acting; nothing was done"
            )

    def _rollback(self) -> None:
        # After a failed COMMIT (disk full) SQLite may have rolled back already.
        try:
            if self._conn.in_transaction:
                list(self._conn.execute("ROLLBACK"))
        except apsw.Error:
            pass  # the connection is unusable; the caller's error says why

    def _sign_checkpoint(self, size: int) -> Checkpoint:
        """Sign the root of the first ``size`` records (inside the caller's transaction).

        The frontier is cached between checkpoints and caught up from the database (other
        processes may append); it is rebuilt when its last leaf is no longer stored.
        """
        known = self._frontier.size
        if known > size or (known and store.hash_at(self._conn, known) != self._frontier_last):
            self._frontier, known = Frontier(), 0
        for _, hash_hex in store.record_hashes(self._conn, known + 1, size):
            self._frontier.append(bytes.fromhex(hash_hex))
            self._frontier_last = hash_hex
        return sign_checkpoint(self.signer, self.log_id, size, self._frontier.root(), self.clock())
