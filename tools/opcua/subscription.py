"""Subscriptions that outlive the session they were made on.

A :class:`TagSubscription` delivers :class:`Reading` objects for tag changes, through an
async iterator or a callback. When the connection is lost it reports the gap (one bad
Reading per tag, status ``BadNotConnected``), then re-creates itself on the next session
and counts that in ``resubscribed``. The twin historian builds on this.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Any

from asyncua import Client, ua
from asyncua.common.subscription import DataChangeNotif, Subscription

from agent.errors import OpcUaError
from tools.context import utcnow
from tools.opcua.client import OpcUaConnection
from tools.opcua.models import Reading, TagInfo
from tools.opcua.read import reading_from

ReadingCallback = Callable[[Reading], None]


class Resubscribing:
    """One asyncua subscription kept alive across reconnects (base of tag/event ones)."""

    def __init__(self, conn: OpcUaConnection, *, period_ms: float, poll_s: float = 0.5) -> None:
        self.conn = conn
        self.period_ms = period_ms
        self.poll_s = poll_s
        #: How many times the subscription was re-created after a lost session.
        self.resubscribed = 0
        self._sub: Subscription | None = None
        self._generation = -1
        self._watch_task: asyncio.Task[None] | None = None
        self._lost_reported = False
        self._closed = False
        #: When (monotonic) the session under the subscription was found gone; None
        #: while it lives. Its owner decides how long to keep trying.
        self.down_since: float | None = None

    async def start(self) -> None:
        """Create the subscription now (OpcUaError if the server is down) and watch it."""
        await self._create()
        self._watch_task = asyncio.get_running_loop().create_task(self._watch())

    async def _create(self) -> None:
        async def run(client: Client) -> Subscription:
            sub = await client.create_subscription(self.period_ms, self)
            try:
                await self._add_items(client, sub)
            except OpcUaError:
                await sub.delete()  # do not leave a half-made subscription on the server
                raise
            return sub

        self._sub = await self.conn.request("subscribe", run)
        self._generation = self.conn.generation

    async def _add_items(self, client: Client, sub: Subscription) -> None:
        raise NotImplementedError

    @property
    def live(self) -> bool:
        """True while the subscription sits on the current, healthy session: what it
        delivers is complete (a recorder counts only such time as covered)."""
        return (not self._closed and self._sub is not None
                and self._generation == self.conn.generation and self.conn.connected)

    def _on_lost(self) -> None:
        """Called once when the session under the subscription is gone."""

    async def _watch(self) -> None:
        while not self._closed:
            await asyncio.sleep(self.poll_s)
            if self._generation == self.conn.generation and self.conn.connected:
                continue
            if not self._lost_reported:
                self._lost_reported = True
                self.down_since = time.monotonic()
                self._on_lost()
            try:
                await self._create()
            except OpcUaError:
                continue  # still down: try again on the next tick
            self._lost_reported = False
            self.down_since = None
            self.resubscribed += 1

    async def close(self) -> None:
        """Stop watching and delete the server-side subscription if the session lives."""
        self._closed = True
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task
        sub, self._sub = self._sub, None
        if sub is not None and self.conn.connected and self._generation == self.conn.generation:

            async def run(client: Client) -> None:
                await sub.delete()

            with contextlib.suppress(OpcUaError):
                await self.conn.request("unsubscribe", run)

    # asyncua calls these on its own task; they must not block.
    def datachange_notification(self, node: Any, val: Any, data: DataChangeNotif) -> None:
        """asyncua hook: a monitored value changed."""

    def event_notification(self, event: Any) -> None:
        """asyncua hook: an event arrived."""

    def status_change_notification(self, status: ua.StatusChangeNotification) -> None:
        """asyncua hook: the server reported a subscription status change."""


class TagSubscription(Resubscribing):
    """Readings of a set of tags as they change. Iterate it or pass a callback."""

    def __init__(
        self,
        conn: OpcUaConnection,
        tags: Sequence[TagInfo],
        *,
        period_ms: float = 500.0,
        stale_after_s: float = 60.0,
        callback: ReadingCallback | None = None,
        clock: Callable[[], datetime] = utcnow,
        max_queue: int = 10_000,
    ) -> None:
        super().__init__(conn, period_ms=period_ms)
        self.tags = list(tags)
        self.callback = callback
        self.clock = clock
        self.stale_after_s = stale_after_s
        #: Readings dropped because nobody consumed the queue fast enough.
        self.dropped = 0
        self._queue: asyncio.Queue[Reading | None] = asyncio.Queue(max_queue)
        self._by_node: dict[ua.NodeId, TagInfo] = {}

    async def _add_items(self, client: Client, sub: Subscription) -> None:
        self._by_node = {self.conn.node_id(t.node_id): t for t in self.tags}
        nodes = [client.get_node(nid) for nid in self._by_node]
        results = await sub.subscribe_data_change(
            nodes, sampling_interval=ua.Double(self.period_ms)
        )
        failed = [
            t.name for t, r in zip(self.tags, results, strict=True) if isinstance(r, ua.StatusCode)
        ]
        if failed:
            raise OpcUaError(f"the server refused to monitor: {', '.join(failed[:10])}")

    def _emit(self, reading: Reading) -> None:
        if self.callback is not None:
            self.callback(reading)
            return
        if self._queue.full():
            # The newest value matters most for a live view: drop the oldest.
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(reading)

    def datachange_notification(self, node: Any, val: Any, data: DataChangeNotif) -> None:
        """asyncua hook: turn the DataValue into our Reading."""
        tag = self._by_node.get(node.nodeid)
        if tag is None:
            return
        dv = data.monitored_item.Value
        self._emit(reading_from(tag, dv, now=self.clock(), stale_after_s=self.stale_after_s))

    def _on_lost(self) -> None:
        now = self.clock()
        for tag in self.tags:
            self._emit(
                Reading(
                    tag=tag.name,
                    value=None,
                    unit=tag.unit,
                    low=tag.eu_low,
                    high=tag.eu_high,
                    server_timestamp=now,
                    quality="bad",
                    status="BadNotConnected",
                    stale=True,
                )
            )

    async def close(self) -> None:
        """Unsubscribe; an iterator over this subscription ends."""
        await super().close()
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)

    def __aiter__(self) -> AsyncIterator[Reading]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Reading]:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            yield item

    async def next(self, wait_s: float) -> Reading | None:
        """The next reading, or None when none came within ``wait_s`` seconds."""
        try:
            item = await asyncio.wait_for(self._queue.get(), wait_s)
        except TimeoutError:
            return None
        return item


async def subscribe(
    conn: OpcUaConnection,
    tags: Sequence[TagInfo],
    *,
    period_ms: float = 500.0,
    stale_after_s: float = 60.0,
    callback: ReadingCallback | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> TagSubscription:
    """Subscribe to tags and start watching the session; ``await sub.close()`` when done."""
    sub = TagSubscription(
        conn,
        tags,
        period_ms=period_ms,
        stale_after_s=stale_after_s,
        callback=callback,
        clock=clock,
    )
    await sub.start()
    return sub
