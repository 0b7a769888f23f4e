"""The audit log: durable, hash-chained, Merkle-checkpointed appends over one database.

FAIL CLOSED. :meth:`AuditLog.append` returns only after the record's transaction is
committed with ``synchronous=FULL`` (on disk). If anything stops that — a closed or
read-only database, a full disk, a payload that is not JSON, an unknown kind — it raises
:class:`~agent.audit.errors.AuditWriteError`, and the caller must NOT perform the action
the record describes. :meth:`AuditLog.action` packages that rule: the body of the
``with`` runs only after the record is durable.

The write path (group commits, the periodic checkpoints) is :mod:`agent.audit.writer`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import apsw

from agent.audit import store
from agent.audit.bundle import write_bundle
from agent.audit.commit import GroupCommit
from agent.audit.errors import AuditUsageError, AuditWriteError
from agent.audit.keychain import rotation_payload
from agent.audit.merkle import Frontier
from agent.audit.records import AuditRecord
from agent.audit.review import VERDICTS, review_payload
from agent.audit.signing import CheckpointSigner, CheckpointVerifier
from agent.audit.witness import Witness, WitnessSender
from agent.audit.writer import AuditWriter, Clock
from agent.errors import IntegrityError
from agent.vault.db import db_error


def utcnow() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


class AuditLog(AuditWriter):
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
