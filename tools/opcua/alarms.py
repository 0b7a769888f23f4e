"""Alarms and events: active conditions via ConditionRefresh, recent events via a log.

Active alarms come from a short-lived event subscription on the Server object followed by
ConditionRefresh (ConditionType method i=3875): the server replays every retained
condition between a RefreshStart and a RefreshEnd event. Recent events come from an
:class:`EventLog` that stays subscribed to the Server object and survives reconnects.
The fields selected and their conversion into our records are in ``event_fields.py``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from asyncua import Client, ua
from asyncua.common.subscription import Subscription

from tools.context import utcnow
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.event_fields import (
    REFRESH_END,
    REFRESH_START,
    SERVER,
    alarm_from_event,
    condition_from_event,
    event_filter,
)
from tools.opcua.models import AlarmInfo, ConditionState
from tools.opcua.nodeids import standard
from tools.opcua.subscription import Resubscribing

#: Called with every condition event the log receives (the alarm journal listens).
ConditionListener = Callable[[ConditionState], None]


class _RefreshCollector:
    """asyncua handler gathering the events of one ConditionRefresh."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.started = False
        self.done = asyncio.Event()

    def event_notification(self, event: Any) -> None:
        etype = getattr(event, "EventType", None)
        if etype == REFRESH_START:
            self.started = True
        elif etype == REFRESH_END:
            self.done.set()
        else:
            self.events.append(event)


async def refresh_events(conn: OpcUaConnection, *, settle_s: float = 2.0) -> list[Any]:
    """The events of one ConditionRefresh: every condition the server retains.

    ``settle_s`` bounds the wait for RefreshEnd on servers that never send it.
    """
    collector = _RefreshCollector()

    async def run(client: Client) -> None:
        sub: Subscription = await client.create_subscription(100, collector)
        try:
            await sub.subscribe_events(SERVER, evfilter=event_filter())
            await client.get_node(ua.ObjectIds.ConditionType).call_method(
                standard(ua.ObjectIds.ConditionType_ConditionRefresh),
                ua.Variant(sub.subscription_id, ua.VariantType.UInt32),
            )
            # A server that never sends RefreshEnd still gets its events reported.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(collector.done.wait(), settle_s)
        finally:
            await sub.delete()

    await conn.request("active alarms", run, limit_s=conn.timeout_s + settle_s)
    return collector.events


async def active_alarms(
    conn: OpcUaConnection, catalog: Catalog | None = None, *, settle_s: float = 2.0
) -> list[AlarmInfo]:
    """Conditions the server retains and reports active, most severe first.

    ``settle_s`` bounds the wait for RefreshEnd on servers that never send it.
    """
    latest: dict[str, AlarmInfo] = {}
    for event in await refresh_events(conn, settle_s=settle_s):
        alarm = alarm_from_event(event, conn, catalog)
        key = alarm.condition_id or f"{alarm.source}|{alarm.event_type}"
        latest[key] = alarm
    active = [a for a in latest.values() if a.retain is not False and a.active is not False]
    return sorted(active, key=lambda a: (-a.severity, a.source))


class EventLog(Resubscribing):
    """The last events of the server (a ring buffer), subscribed to the Server object."""

    def __init__(
        self,
        conn: OpcUaConnection,
        catalog: Catalog | None = None,
        *,
        size: int = 500,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(conn, period_ms=250.0)
        self.catalog = catalog
        self.clock = clock
        self.started_at = clock()
        self._events: collections.deque[AlarmInfo] = collections.deque(maxlen=size)
        #: Hear every condition event with its full Part 9 state (the alarm journal).
        self.listeners: list[ConditionListener] = []

    async def _add_items(self, client: Client, sub: Subscription) -> None:
        await sub.subscribe_events(SERVER, evfilter=event_filter())

    def event_notification(self, event: Any) -> None:
        """asyncua hook: keep the event (Refresh markers are not events of the plant)."""
        if getattr(event, "EventType", None) in (REFRESH_START, REFRESH_END):
            return
        alarm = alarm_from_event(event, self.conn, self.catalog)
        if alarm.time is None:
            alarm.time = self.clock()
        self._events.append(alarm)
        if self.listeners:
            state = condition_from_event(event, self.conn, self.catalog)
            if state is not None:
                if state.time is None:
                    state.time = alarm.time
                for listener in self.listeners:
                    listener(state)

    def recent(self, since: datetime, limit: int) -> list[AlarmInfo]:
        """Events with a time at or after ``since``, newest first, at most ``limit``."""
        found = [e for e in self._events if e.time is not None and e.time >= since]
        found.sort(key=lambda e: e.time or since, reverse=True)
        return found[:limit]


async def event_log(conn: OpcUaConnection, catalog: Catalog | None = None) -> EventLog:
    """The connection's event log, started on first use."""
    if conn.event_log is None:
        log = EventLog(conn, catalog)
        await log.start()
        conn.event_log = log
    return conn.event_log
