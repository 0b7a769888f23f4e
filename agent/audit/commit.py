"""Group commit: appends that arrive together share one transaction and one fsync.

Every caller of :meth:`GroupCommit.submit` waits until its own record is durable (or has
failed). The first caller to find no write under way becomes the leader: it takes every
record queued so far, writes them in one transaction with one ``COMMIT`` (one fsync
under ``synchronous=FULL``), marks each done and wakes the others. Callers that queued
meanwhile form the next batch. A lone caller pays one fsync, as before; N concurrent
callers pay about one fsync per batch instead of N, which is where the throughput comes
from (PostgreSQL and InnoDB commit the same way).

Nothing is acknowledged before the commit that covers it has returned: a crash at any
moment loses only records whose callers are still waiting, and those callers never saw
success.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from agent.audit.checkpoints import Checkpoint
from agent.audit.errors import AuditWriteError
from agent.audit.records import AuditRecord

#: Builds a record from its seq and the previous record's hash (inside the transaction).
MakeRecord = Callable[[int, str], AuditRecord]


@dataclass
class Pending:
    """One record waiting for its batch: filled in by the leader that writes it."""

    make: MakeRecord
    record: AuditRecord | None = None
    #: A periodic checkpoint this record's position triggered (exported by its caller).
    checkpoint: Checkpoint | None = None
    error: AuditWriteError | None = None
    done: bool = False


#: Writes one batch in one transaction; sets ``record`` or ``error`` on every item.
WriteBatch = Callable[[list[Pending]], None]


class GroupCommit:
    """Leader/follower batching of appends; thread-safe."""

    def __init__(self, write_batch: WriteBatch) -> None:
        self._write_batch = write_batch
        self._cv = threading.Condition()
        self._queue: list[Pending] = []
        self._writing = False
        #: Sizes of the batches written so far (the benchmark reports their mean).
        self.batches = 0
        self.records = 0

    def submit(self, make: MakeRecord) -> Pending:
        """Queue a record and return once it is durable or failed (see its fields)."""
        item = Pending(make)
        with self._cv:
            self._queue.append(item)
            while self._writing and not item.done:
                self._cv.wait()
            if item.done:
                return item
            self._writing = True
            batch, self._queue = self._queue, []
        try:
            self._write_batch(batch)
        except BaseException as exc:  # re-raised: a KeyboardInterrupt mid-batch, a bug
            for pending in batch:
                if pending.error is None:
                    pending.record, pending.checkpoint = None, None
                    pending.error = AuditWriteError(
                        f"the audit batch was interrupted ({type(exc).__name__})",
                        fix="nothing in it was acknowledged; the actions were not performed",
                    )
            raise
        finally:
            with self._cv:
                for pending in batch:
                    pending.done = True
                self.batches += 1
                self.records += len(batch)
                self._writing = False
                self._cv.notify_all()
        return item
