"""Alarms and events: active conditions via ConditionRefresh, recent events via a log.

Active alarms come from a short-lived event subscription on the Server object followed by
ConditionRefresh (ConditionType method i=3875): the server replays every retained
condition between a RefreshStart and a RefreshEnd event. Recent events come from an
:class:`EventLog` that stays subscribed to the Server object and survives reconnects.
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
from tools.opcua.models import AlarmInfo
from tools.opcua.nodeids import standard
from tools.opcua.read import scalar, utc
from tools.opcua.subscription import Resubscribing

_REFRESH_START = standard(ua.ObjectIds.RefreshStartEventType)
_REFRESH_END = standard(ua.ObjectIds.RefreshEndEventType)
_SERVER = standard(ua.ObjectIds.Server)

# (type the field is defined on, browse path); an empty path selects the NodeId attribute,
# which for a condition is its ConditionId.
_FIELDS: list[tuple[int, list[str]]] = [
    (ua.ObjectIds.BaseEventType, ["EventType"]),
    (ua.ObjectIds.BaseEventType, ["SourceNode"]),
    (ua.ObjectIds.BaseEventType, ["SourceName"]),
    (ua.ObjectIds.BaseEventType, ["Time"]),
    (ua.ObjectIds.BaseEventType, ["Message"]),
    (ua.ObjectIds.BaseEventType, ["Severity"]),
    (ua.ObjectIds.ConditionType, ["Retain"]),
    (ua.ObjectIds.ConditionType, []),
    (ua.ObjectIds.AlarmConditionType, ["ActiveState", "Id"]),
]


def event_filter() -> ua.EventFilter:
    """Select the fields we report, with no where clause: the Refresh events must pass."""
    evfilter = ua.EventFilter()
    for type_id, path in _FIELDS:
        op = ua.SimpleAttributeOperand()
        op.TypeDefinitionId = standard(type_id)
        op.BrowsePath = [ua.QualifiedName(p, 0) for p in path]
        op.AttributeId = ua.AttributeIds.Value if path else ua.AttributeIds.NodeId
        evfilter.SelectClauses.append(op)
    return evfilter


def _type_name(node_id: Any) -> str | None:
    if not isinstance(node_id, ua.NodeId):
        return None
    if node_id.NamespaceIndex == 0 and isinstance(node_id.Identifier, int):
        return ua.ObjectIdNames.get(node_id.Identifier, node_id.to_string())
    return node_id.to_string()


def alarm_from_event(
    event: Any, conn: OpcUaConnection, catalog: Catalog | None = None
) -> AlarmInfo:
    """Our AlarmInfo of an asyncua event object (fields named by browse path)."""
    source_node = getattr(event, "SourceNode", None)
    source = getattr(event, "SourceName", None) or ""
    if catalog is not None and isinstance(source_node, ua.NodeId) and source_node.NamespaceIndex:
        tag = catalog.tag_by_node_id(conn.expanded(source_node))
        source = tag.name if tag is not None else source
    condition = getattr(event, "NodeId", None)
    message = scalar(getattr(event, "Message", None))
    active = getattr(event, "ActiveState/Id", None)
    retain = getattr(event, "Retain", None)
    severity = getattr(event, "Severity", None)
    return AlarmInfo(
        source=str(source),
        severity=int(severity) if isinstance(severity, int) else 0,
        message=str(message or ""),
        active=bool(active) if active is not None else None,
        retain=bool(retain) if retain is not None else None,
        time=utc(getattr(event, "Time", None)),
        condition_id=conn.expanded(condition) if isinstance(condition, ua.NodeId) else None,
        event_type=_type_name(getattr(event, "EventType", None)),
    )


class _RefreshCollector:
    """asyncua handler gathering the events of one ConditionRefresh."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.started = False
        self.done = asyncio.Event()

    def event_notification(self, event: Any) -> None:
        etype = getattr(event, "EventType", None)
        if etype == _REFRESH_START:
            self.started = True
        elif etype == _REFRESH_END:
            self.done.set()
        else:
            self.events.append(event)


async def active_alarms(
    conn: OpcUaConnection, catalog: Catalog | None = None, *, settle_s: float = 2.0
) -> list[AlarmInfo]:
    """Conditions the server retains and reports active, most severe first.

    ``settle_s`` bounds the wait for RefreshEnd on servers that never send it.
    """
    collector = _RefreshCollector()

    async def run(client: Client) -> None:
        sub: Subscription = await client.create_subscription(100, collector)
        try:
            await sub.subscribe_events(_SERVER, evfilter=event_filter())
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
    latest: dict[str, AlarmInfo] = {}
    for event in collector.events:
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

    async def _add_items(self, client: Client, sub: Subscription) -> None:
        await sub.subscribe_events(_SERVER, evfilter=event_filter())

    def event_notification(self, event: Any) -> None:
        """asyncua hook: keep the event (Refresh markers are not events of the plant)."""
        if getattr(event, "EventType", None) in (_REFRESH_START, _REFRESH_END):
            return
        alarm = alarm_from_event(event, self.conn, self.catalog)
        if alarm.time is None:
            alarm.time = self.clock()
        self._events.append(alarm)

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
