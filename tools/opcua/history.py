"""Tag history through the HistoryRead service: raw samples and their aggregates.

Aggregates (min, max, mean, last) are computed here from the raw samples rather than with
ReadProcessed, because many servers (asyncua's included) do not implement processed
history; the result is the same on every server. Windows and point counts are capped by
settings so one call can never pull years of data.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from asyncua import Client, ua

from agent.errors import InvalidArgumentError
from agent.settings import OpcUaSettings
from tools.opcua.client import OpcUaConnection
from tools.opcua.models import HistoryPoint, HistoryResult, HistorySummary, TagInfo
from tools.opcua.read import quality_of, scalar, status_name, utc


def check_window(start: datetime, end: datetime, settings: OpcUaSettings) -> None:
    """InvalidArgumentError for an empty, reversed or over-long window."""
    if end <= start:
        raise InvalidArgumentError(
            "the history window ends before it starts", fix="give a start earlier than the end"
        )
    hours = (end - start).total_seconds() / 3600
    if hours > settings.max_history_window_h:
        raise InvalidArgumentError(
            f"a history window of {hours:,.0f} h is longer than the "
            f"{settings.max_history_window_h:g} h allowed",
            fix=f"ask for at most {settings.max_history_window_h * 60:,.0f} minutes",
        )


async def read_raw(
    conn: OpcUaConnection, tag: TagInfo, start: datetime, end: datetime, max_points: int
) -> tuple[list[HistoryPoint], bool]:
    """Raw samples of one tag in [start, end], oldest first; True when cut at max_points."""
    node_id = conn.node_id(tag.node_id)

    async def run(client: Client) -> list[ua.DataValue]:
        # One more than allowed tells us whether the window held more.
        return await client.get_node(node_id).read_raw_history(
            start, end, numvalues=max_points + 1, return_bounds=False
        )

    values = await conn.request(f"history of {tag.name}", run, limit_s=conn.timeout_s * 2)
    truncated = len(values) > max_points
    points = [
        HistoryPoint(
            time=utc(dv.SourceTimestamp) or utc(dv.ServerTimestamp),
            value=None
            if quality_of(dv.StatusCode) == "bad" or dv.Value is None
            else scalar(dv.Value.Value),
            quality=quality_of(dv.StatusCode),
            status=status_name(dv.StatusCode),
        )
        for dv in values[:max_points]
    ]
    points.sort(key=lambda p: p.time or start)
    return points, truncated


def summarize(
    tag: TagInfo, points: list[HistoryPoint], start: datetime, end: datetime, truncated: bool
) -> HistorySummary:
    """min/max/mean/last over the good numeric samples; others are counted as bad."""
    good = [
        (p.time, float(p.value))
        for p in points
        if p.quality == "good"
        and isinstance(p.value, int | float)
        and not isinstance(p.value, bool)
    ]
    values = [v for _, v in good]
    return HistorySummary(
        tag=tag.name,
        unit=tag.unit,
        start=start,
        end=end,
        count=len(values),
        min=min(values) if values else None,
        max=max(values) if values else None,
        mean=sum(values) / len(values) if values else None,
        last=values[-1] if values else None,
        first_time=good[0][0] if good else None,
        last_time=good[-1][0] if good else None,
        bad_count=len(points) - len(good),
        truncated=truncated,
    )


def thin(points: list[HistoryPoint], keep: int) -> list[HistoryPoint]:
    """At most ``keep`` points spread evenly over the window, first and last included."""
    if keep <= 0:
        return []
    if len(points) <= keep:
        return points
    if keep == 1:
        return [points[-1]]
    step = (len(points) - 1) / (keep - 1)
    return [points[round(i * step)] for i in range(keep)]


async def tag_history(
    conn: OpcUaConnection,
    tag: TagInfo,
    *,
    start: datetime,
    end: datetime,
    settings: OpcUaSettings,
    keep_points: int = 0,
) -> HistoryResult:
    """History of one tag over [start, end]: the summary plus ``keep_points`` samples."""
    check_window(start, end, settings)
    points, truncated = await read_raw(conn, tag, start, end, settings.max_history_points)
    return HistoryResult(
        summary=summarize(tag, points, start, end, truncated), points=thin(points, keep_points)
    )


def window(now: datetime, minutes: float) -> tuple[datetime, datetime]:
    """The window of the last ``minutes`` before ``now``."""
    return now - timedelta(minutes=minutes), now
