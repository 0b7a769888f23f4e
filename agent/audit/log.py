"""The audit log: durable, hash-chained, Merkle-checkpointed appends over one database.

FAIL CLOSED. :meth:`AuditLog.append` returns only after the record's transaction is
committed with ``synchronous=FULL`` (on disk). If anything stops that — a closed or
read-only database, a full disk, a payload that is not JSON, an unknown kind — it raises
:class:`~agent.audit.errors.AuditWriteError`, and the caller must NOT perform the action
the record describes. :meth:`AuditLog.action` packages that rule: the body of the
``with`` runs only after the record is durable.

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
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import apsw
from pydantic import ValidationError

from agent.audit import store
from agent.audit.bundle import write_bundle
from agent.audit.checkpoints import (
    Checkpoint,
    checkpoint_from_row,
    sign_checkpoint,
    write_checkpoint_file,
)
from agent.audit.commit import GroupCommit, Pending
from agent.audit.errors import AuditUsageError, AuditWriteError
from agent.audit.keychain import rotation_payload
from agent.audit.merkle import Frontier
from agent.audit.reader import AuditReader
from agent.audit.records import (
    AuditKind,
    AuditRecord,
    genesis_hash,
    prepare_payload,
    seal_record,
)
from agent.audit.review import VERDICTS, review_payload
from agent.audit.signing import CheckpointSigner, CheckpointVerifier
from agent.audit.witness import Witness, WitnessSender
from agent.errors import IntegrityError
from agent.vault.db import db_error

Clock = Callable[[], datetime]
_KINDS = frozenset(get_args(AuditKind))


def utcnow() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


class AuditLog(AuditReader):
    """Append-only audit log over an open (encrypted) apsw connection.

    Build it with :meth:`open` (or :func:`agent.audit.site.open_audit_log` from settings).
    Thread-safe: one lock serialises use of the connection.
    """

    def __init__(
        self,
        conn: apsw.Connection,
        log_id: str,
        signer: CheckpointSigner,
        verifier: CheckpointVerifier,
        *,
        clock: Clock = utcnow,
        checkpoint_every: int | None = 256,
        export_dir: Path | None = None,
        close_connection: bool = True,
        witness: Witness | None = None,
    ) -> None:
        self._conn = conn
        self._close_connection = close_connection
        self.log_id = log_id
        self.signer = signer
        self.verifier = verifier
        self.clock = clock
        self.checkpoint_every = checkpoint_every
        self.export_dir = export_dir
        #: Sends exported checkpoints to the site's witness (agent/audit/witness.py).
        self.witness = (WitnessSender(witness, export_dir)
                        if witness is not None and export_dir is not None else None)
        self._lock = threading.Lock()
        self._frontier = Frontier()
        self._frontier_last = ""  # hash of the frontier's last leaf
        self._closed = False
        self._group = GroupCommit(self._write_batch)
        self._close_hooks: list[Callable[[], None]] = []

    @classmethod
    def open(
        cls,
        connect: Callable[[], apsw.Connection],
        signer: CheckpointSigner,
        verifier: CheckpointVerifier,
        **options: Any,
    ) -> AuditLog:
        """Open (creating the schema if needed) the log on the connection ``connect`` makes.

        ``options`` are the keyword arguments of the constructor (clock,
        checkpoint_every, export_dir, close_connection), and ``new_log_id``: the id a
        new log takes (its site names it already).
        """
        new_log_id = options.pop("new_log_id", None)
        conn = connect()
        try:
            list(conn.execute("PRAGMA synchronous=FULL"))  # the durability promise
            log_id = store.migrate(conn, new_log_id)
        except (apsw.CorruptError, apsw.NotADBError) as exc:
            raise IntegrityError(
                f"the audit database is damaged: {exc}",
                fix="restore data/audit.db from a backup copy, then `plantagent audit verify`",
            ) from exc
        except apsw.Error as exc:
            why = db_error(exc, Path(conn.filename or "audit.db"), "preparing the audit log")
            raise AuditWriteError(why.message, fix=why.fix) from exc
        return cls(conn, log_id, signer, verifier, **options)

    def close(self) -> None:
        """Run the close hooks, then close the connection if this log owns it (further
        appends then fail)."""
        hooks, self._close_hooks = self._close_hooks, []
        try:
            for hook in hooks:  # outside the lock: a hook may append (a final checkpoint)
                hook()
            if self.witness is not None:
                self.witness.flush()
        finally:
            with self._lock:
                self._closed = True
                if self._close_connection:
                    self._conn.close()

    def on_close(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` when the log is closed, before it stops taking records (the
        site's other databases record their heads in it as they close)."""
        self._close_hooks.append(hook)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran (appends then fail)."""
        return self._closed

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------

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

    @contextmanager
    def action(
        self,
        kind: str,
        actor: str,
        payload: dict[str, Any],
        **fields: str | None,
    ) -> Iterator[AuditRecord]:
        """Record an action, then let the ``with`` body perform it.

        The body runs only when the record is durable; if the append fails, the
        AuditWriteError propagates and the body never runs. If the body raises, an
        ``error`` record naming this one is appended (best effort) and the error goes on.
        """
        record = self.append(kind, actor, payload, **fields)
        try:
            yield record
        except Exception as exc:  # re-raised below: only recorded
            try:
                self.append(
                    "error",
                    actor,
                    {"during_seq": record.seq, "error": type(exc).__name__, "detail": str(exc)},
                    role=fields.get("role"),
                    tool=fields.get("tool"),
                    equipment=fields.get("equipment"),
                )
            except AuditWriteError as audit_exc:
                exc.add_note(f"the audit error record could not be written: {audit_exc}")
            raise

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

    def rotate_signing_key(self, new_signer: CheckpointSigner, actor: str, *,
                           role: str | None = None) -> AuditRecord:
        """Hand the log to a new signing key: append the rotation record (signed by the
        current key and the new one, agent/audit/keychain.py), sign a checkpoint covering
        it with the current key, then sign everything after with ``new_signer``.

        Both signers must expose their ``public_bundle`` (the vault's VaultSigner does).
        """
        old_public = getattr(self.signer, "public_bundle", None)
        new_public = getattr(new_signer, "public_bundle", None)
        if old_public is None or new_public is None:
            raise AuditUsageError("the audit signing keys have no public bundle to name",
                                  fix="rotate the site's keys with `plantagent keys rotate "
                                  "--signing`")
        if new_signer.key_id == self.signer.key_id:
            raise AuditUsageError("the new audit key is the current one",
                                  fix="generate a new key pair")
        payload = rotation_payload(self.log_id, self.signer, old_public, new_signer,
                                   new_public)
        record = self.append("key_change", actor, payload, role=role)
        self.checkpoint()  # the old key's last checkpoint: it covers its own retirement
        with self._lock:
            self.signer = new_signer
            verifier = getattr(new_signer, "verifier", None)
            self.verifier = verifier() if callable(verifier) else self.verifier
        return record

    def review(
        self,
        actor: str,
        first: int,
        last: int,
        verdict: str,
        note: str,
        *,
        role: str | None = None,
        signed: dict[str, Any] | None = None,
    ) -> AuditRecord:
        """Append a signed review note on records ``first``..``last``, then checkpoint.
        ``signed``: the reviewer's own signed statement of the note (agent.people), kept
        in the payload besides the site's signature."""
        if verdict not in VERDICTS:
            raise AuditUsageError(
                f"unknown verdict {verdict!r}", fix=f"use one of: {', '.join(VERDICTS)}"
            )
        size = self.size()
        if not 1 <= first <= last <= size:
            raise AuditUsageError(
                f"records {first}-{last} are not in the log (it has {size})",
                fix=f"give a range within 1-{size}",
            )
        hashes = self.record_hashes(first, last)
        payload = review_payload(
            self.signer,
            log_id=self.log_id,
            reviewer=actor,
            first=first,
            last=last,
            target_hashes=hashes,
            verdict=verdict,
            note=note,
        )
        if signed is not None:
            payload["signed"] = signed
        record = self.append("review_note", actor, payload, role=role)
        self.checkpoint()
        return record

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

    def export_bundle(self, out: Path, public_keys: dict[str, Any] | None = None) -> int:
        """Checkpoint, then write the auditor's plaintext bundle to ``out`` (never
        overwritten); returns the number of records. See :mod:`agent.audit.bundle`."""
        self.checkpoint()
        with self._lock:
            list(self._conn.execute("BEGIN"))
            try:
                rows = list(store.raw_records(self._conn))
            finally:
                list(self._conn.execute("COMMIT"))
        return write_bundle(out, self.log_id, rows, self.stored_checkpoints(), public_keys)
