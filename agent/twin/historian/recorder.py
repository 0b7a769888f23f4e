"""Recording: an OPC UA subscription feeding the historian in batches, off the event loop.

The subscription's callback only appends to an in-memory buffer (it runs on asyncua's task
and must not block). A writer task swaps the buffer out every ``flush_s`` (or sooner when
it holds ``batch_max`` readings) and stores it with one ``executemany`` in one transaction
in a worker thread. While a batch is being written, new readings collect in the next
buffer, so the database never stalls the subscription. :class:`IngestStats` says whether
ingestion keeps up: readings produced vs stored, and the queue lag (age of the oldest
reading when its batch committed).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from agent.twin.historian.store import Historian, Sample, quality_code
from tools.context import utcnow
from tools.opcua.client import OpcUaConnection
from tools.opcua.models import Reading, TagInfo
from tools.opcua.subscription import TagSubscription


@dataclass
class IngestStats:
    """Counters of one recording; lag figures in seconds."""

    produced: int = 0
    ingested: int = 0
    #: Readings thrown away because the buffer hit ``max_pending`` (the store fell behind).
    dropped: int = 0
    batches: int = 0
    pending: int = 0
    max_lag_s: float = 0.0
    last_lag_s: float = 0.0
    write_s: float = 0.0
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed_s(self) -> float:
        """Seconds since the recording started."""
        return time.monotonic() - self.started

    def rates(self) -> tuple[float, float]:
        """(produced, ingested) values per second so far."""
        elapsed = max(self.elapsed_s, 1e-9)
        return self.produced / elapsed, self.ingested / elapsed


def sample_of(reading: Reading, now: datetime) -> Sample | None:
    """The stored form of a reading; None for values that are not numbers (text)."""
    when = reading.source_timestamp or reading.server_timestamp or now
    value = reading.value
    if isinstance(value, bool):
        number: float | None = float(value)
    elif isinstance(value, int | float):
        number = float(value)
    elif value is None:
        number = None
    else:
        return None
    quality = quality_code(reading.quality) if number is not None else 2
    return Sample(reading.tag, when.timestamp(), number, quality)


class Recorder:
    """Subscribe to tags and store every change in the historian until closed."""

    def __init__(
        self,
        historian: Historian,
        conn: OpcUaConnection,
        tags: Sequence[TagInfo],
        *,
        period_ms: float = 500.0,
        flush_s: float = 0.5,
        batch_max: int = 5000,
        max_pending: int = 500_000,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.historian = historian
        self.conn = conn
        self.tags = list(tags)
        self.period_ms = period_ms
        self.flush_s = flush_s
        self.batch_max = batch_max
        self.max_pending = max_pending
        self.clock = clock
        self.stats = IngestStats()
        self._buffer: list[tuple[float, Sample]] = []
        self._wake = asyncio.Event()
        self._sub: TagSubscription | None = None
        self._writer: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        """Subscribe (OpcUaError if the server refuses) and start the writer task."""
        self.stats = IngestStats()
        self._sub = TagSubscription(
            self.conn,
            self.tags,
            period_ms=self.period_ms,
            callback=self._on_reading,
            clock=self.clock,
        )
        await self._sub.start()
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    def _on_reading(self, reading: Reading) -> None:
        sample = sample_of(reading, self.clock())
        if sample is None:
            return
        self.stats.produced += 1
        if len(self._buffer) >= self.max_pending:
            # Memory stays bounded if the disk stalls; the gap shows in the history.
            self.stats.dropped += 1
            return
        self._buffer.append((time.monotonic(), sample))
        self.stats.pending = len(self._buffer)
        if len(self._buffer) >= self.batch_max:
            self._wake.set()

    async def _write_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_s)
            self._wake.clear()
            await self.flush()
            if self._stopping:
                return

    async def flush(self) -> int:
        """Store what is buffered now, in a worker thread; returns how many were stored."""
        batch, self._buffer = self._buffer, []
        self.stats.pending = 0
        if not batch:
            return 0
        began = time.monotonic()
        stored = await asyncio.to_thread(self.historian.insert_batch, [s for _, s in batch])
        done = time.monotonic()
        lag = done - batch[0][0]
        s = self.stats
        s.ingested += stored
        s.batches += 1
        s.write_s += done - began
        s.last_lag_s = lag
        s.max_lag_s = max(s.max_lag_s, lag)
        s.pending = len(self._buffer)
        return stored

    async def close(self) -> IngestStats:
        """Unsubscribe, store what is left, stop the writer; returns the final counters."""
        if self._sub is not None:
            await self._sub.close()
            self._sub = None
        self._stopping = True
        self._wake.set()
        if self._writer is not None:
            await self._writer
            self._writer = None
        await self.flush()
        return self.stats

    def down_s(self) -> float:
        """Seconds the server has been unreachable (0 while it answers); the
        subscription keeps trying to come back meanwhile."""
        since = self._sub.down_since if self._sub is not None else None
        return 0.0 if since is None else time.monotonic() - since

    async def __aenter__(self) -> Recorder:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
