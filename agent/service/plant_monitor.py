"""The live plant for a screen: one batched Read per refresh, a short history per tag.

The history behind each sparkline is read once with HistoryRead when the monitor first
connects (the server's stored samples of the last minutes), then extended from the live
reads, so a refresh is one Read service call for every tag, never one request per tag.
When the server goes away the last values are kept and shown as stale.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from agent.errors import OpcUaError, OpcUaUnavailable
from agent.service.views import (
    ConnectionState,
    EquipmentView,
    PlantSnapshot,
    TagQuality,
    TagView,
)
from agent.settings import OpcUaSettings
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.history import tag_history
from tools.opcua.models import Reading, TagInfo
from tools.opcua.read import read_tag_infos
from tools.opcua.statuses import is_flat, ne107

#: Consecutive failed refreshes after which the server counts as down, not reconnecting.
DOWN_AFTER_FAILURES = 3


@dataclass
class HistoryWindow:
    """How much history a sparkline holds."""

    minutes: float = 10.0
    points: int = 40

    @property
    def spacing_s(self) -> float:
        """Seconds between two kept points."""
        return self.minutes * 60.0 / self.points


@dataclass
class _TagTrace:
    values: deque[float]
    last_time: datetime | None = None


@dataclass
class ConnectionTracker:
    """connected / reconnecting / down from the outcome of the last refreshes."""

    failures: int = 0
    error: str | None = None
    ever_connected: bool = False

    def ok(self) -> None:
        """A request succeeded."""
        self.failures, self.error, self.ever_connected = 0, None, True

    def failed(self, message: str) -> None:
        """A request failed with ``message``."""
        self.failures += 1
        self.error = message

    @property
    def state(self) -> ConnectionState:
        """The state to show."""
        if self.failures == 0:
            return "connected"
        return "reconnecting" if self.failures < DOWN_AFTER_FAILURES else "down"


@dataclass
class PlantMonitor:
    """Snapshots of every tag of ``catalog`` over ``conn``."""

    conn: OpcUaConnection
    catalog: Catalog
    settings: OpcUaSettings
    clock: Callable[[], datetime]
    #: The site's zone: a snapshot's time is shown in it.
    zone: tzinfo = UTC
    window: HistoryWindow = field(default_factory=HistoryWindow)
    tracker: ConnectionTracker = field(default_factory=ConnectionTracker)
    _traces: dict[str, _TagTrace] = field(default_factory=dict)
    _last: dict[str, Reading] = field(default_factory=dict)
    _backfilled: bool = False
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def snapshot(self) -> PlantSnapshot:
        """Read every tag now; on a server problem, the last values marked stale."""
        async with self._lock:  # two screens refreshing at once share one read
            tags = list(self.catalog.tags.values())
            try:
                if not self._backfilled:
                    await self._backfill(tags)
                readings = await read_tag_infos(
                    self.conn, tags, clock=self.clock,
                    stale_after_s=self.settings.stale_after_s,
                )
            except OpcUaError as exc:
                self.tracker.failed(exc.message)
                return self._build(fresh=False)
            self.tracker.ok()
            for reading in readings:
                self._last[reading.tag] = reading
                self._extend(reading)
            return self._build(fresh=True)

    def series(self, tag: str) -> tuple[float, ...]:
        """The recent values of ``tag`` the monitor holds (empty if none yet)."""
        trace = self._traces.get(tag)
        return tuple(trace.values) if trace else ()

    async def _backfill(self, tags: list[TagInfo]) -> None:
        """The last minutes of every tag from the server's history, a few requests at
        a time; a server without history just starts the sparklines empty."""
        end = self.clock()
        start = end - timedelta(minutes=self.window.minutes)
        gate = asyncio.Semaphore(4)

        async def one(tag: TagInfo) -> None:
            async with gate:
                try:
                    result = await tag_history(self.conn, tag, start=start, end=end,
                                               settings=self.settings,
                                               keep_points=self.window.points)
                except OpcUaUnavailable:
                    raise  # the server is away: the caller reports it
                except OpcUaError:
                    return  # no history for this tag: its sparkline starts empty
            trace = self._trace(tag.name)
            for point in result.points:
                if point.quality == "good" and _is_number(point.value) and point.time:
                    trace.values.append(float(point.value))  # type: ignore[arg-type]
                    trace.last_time = point.time

        await asyncio.gather(*(one(t) for t in tags))
        self._backfilled = True

    def _trace(self, tag: str) -> _TagTrace:
        trace = self._traces.get(tag)
        if trace is None:
            trace = self._traces[tag] = _TagTrace(deque(maxlen=self.window.points))
        return trace

    def _extend(self, reading: Reading) -> None:
        if reading.quality != "good" or not _is_number(reading.value):
            return
        when = reading.source_timestamp or self.clock()
        trace = self._trace(reading.tag)
        if trace.last_time is None or (when - trace.last_time).total_seconds() >= (
            self.window.spacing_s
        ):
            trace.values.append(float(reading.value))  # type: ignore[arg-type]
            trace.last_time = when

    def _build(self, *, fresh: bool) -> PlantSnapshot:
        equipment = tuple(
            EquipmentView(
                name=eq.name,
                path=tuple(eq.browse_path[:-1]),
                description=eq.description,
                tags=tuple(self._tag_view(self.catalog.tags[t], fresh=fresh) for t in eq.tags),
            )
            for eq in self.catalog.equipment.values()
        )
        return PlantSnapshot(
            equipment=equipment,
            taken_at=self.clock().astimezone(self.zone),
            connection=self.tracker.state,
            error=self.tracker.error,
        )

    def _tag_view(self, tag: TagInfo, *, fresh: bool) -> TagView:
        reading = self._last.get(tag.name)
        variable = tag.name.split(".", 1)[-1]
        series = self.series(tag.name)
        if reading is None:
            return TagView(name=tag.name, variable=variable, value=None, unit=tag.unit,
                           low=tag.eu_low, high=tag.eu_high, quality="stale",
                           status="NotReadYet", ne107="function_check", history=series)
        return TagView(
            name=tag.name, variable=variable, value=reading.value, unit=tag.unit,
            low=tag.eu_low, high=tag.eu_high, limit=reading.out_of_limits or "ok",
            quality=quality_of(reading, fresh=fresh), status=reading.status,
            ne107=ne107(reading.status, reading.quality, stale=reading.stale or not fresh,
                        flat=is_flat(series)),
            timestamp=reading.source_timestamp, history=series,
        )


def quality_of(reading: Reading, *, fresh: bool) -> TagQuality:
    """bad beats stale beats uncertain: a value we could not refresh is stale."""
    if reading.quality == "bad":
        return "bad"
    if reading.stale or not fresh:
        return "stale"
    return "uncertain" if reading.quality == "uncertain" else "good"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
