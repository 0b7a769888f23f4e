"""History (raw and aggregates, window limits) and alarms (ConditionRefresh, events)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from agent.errors import InvalidArgumentError
from agent.settings import Settings
from tools.context import ToolContext
from tools.opcua import history
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.toolset import (
    NoArgs,
    RecentEventsArgs,
    TagHistoryArgs,
    active_alarms,
    recent_events,
    tag_history,
)

from .uatestserver import NS_URI, PlantHandle

pytestmark = pytest.mark.asyncio(loop_scope="module")

#: The prefilled samples end here, well before anything the server records live.
HISTORY_END = datetime.now(UTC) - timedelta(minutes=30)
SAMPLES = [float(v) for v in (40, 42, 44, 46, 48, 50, 52, 54, 56, 58)]


def ctx_at(
    settings: Settings, conn: OpcUaConnection, catalog: Catalog, now: datetime
) -> ToolContext:
    return ToolContext(settings=settings, opcua=conn, catalog=catalog, clock=lambda: now)


async def test_history_summary_and_raw_points(
    plant: PlantHandle, conn: OpcUaConnection, catalog: Catalog, settings: Settings
) -> None:
    await plant.prefill_history("TK-7.Level", SAMPLES, timedelta(minutes=1), end=HISTORY_END)
    # The clock stands 1 minute after the last sample: the window holds exactly the ten.
    ctx = ctx_at(settings, conn, catalog, HISTORY_END + timedelta(minutes=1))
    result = await tag_history(
        ctx, TagHistoryArgs(tag="TK-7.Level", window_minutes=12, aggregate="raw", max_points=4)
    )
    s = result.summary
    assert (s.count, s.min, s.max, s.last, s.unit) == (10, 40.0, 58.0, 58.0, "%")
    assert s.mean == pytest.approx(49.0)
    assert s.last_time is not None and abs((s.last_time - HISTORY_END).total_seconds()) < 0.01
    assert s.truncated is False
    assert [p.value for p in result.points] == [40.0, 46.0, 52.0, 58.0]  # spread, ends kept
    summary_only = await tag_history(ctx, TagHistoryArgs(tag="TK-7.Level", window_minutes=12))
    assert summary_only.points == [] and summary_only.summary.count == 10


async def test_point_cap_truncates_and_says_so(
    plant: PlantHandle, conn: OpcUaConnection, catalog: Catalog, settings: Settings
) -> None:
    capped = settings.opcua.model_copy(update={"max_history_points": 4})
    end = HISTORY_END + timedelta(minutes=1)
    result = await history.tag_history(
        conn,
        catalog.tag("TK-7.Level"),
        start=end - timedelta(minutes=12),
        end=end,
        settings=capped,
    )
    assert result.summary.truncated is True
    assert result.summary.count == 4


async def test_absurd_history_windows_are_refused(
    conn: OpcUaConnection, catalog: Catalog, settings: Settings
) -> None:
    ctx = ctx_at(settings, conn, catalog, datetime.now(UTC))
    with pytest.raises(InvalidArgumentError) as err:
        await tag_history(ctx, TagHistoryArgs(tag="TK-7.Level", window_minutes=10 * 365 * 24 * 60))
    assert "168 h allowed" in err.value.message and err.value.fix
    with pytest.raises(ValidationError):
        TagHistoryArgs(tag="TK-7.Level", window_minutes=-5)
    with pytest.raises(InvalidArgumentError):
        now = datetime.now(UTC)
        history.check_window(now, now - timedelta(hours=1), settings.opcua)


async def test_active_alarms_come_from_condition_refresh(
    plant: PlantHandle, conn: OpcUaConnection, catalog: Catalog, settings: Settings
) -> None:
    ctx = ctx_at(settings, conn, catalog, datetime.now(UTC))
    assert (await active_alarms(ctx, NoArgs())).alarms == []
    # Raised before we ask: only ConditionRefresh can tell us about them.
    await plant.alarm("PU-1.FlowRate", "High", active=True, severity=700)
    await plant.alarm("TK-7.Level", "Low", active=True, severity=900)
    await plant.alarm("PU-1.DischargePressure", "High", active=True, severity=300)
    await plant.alarm("PU-1.DischargePressure", "High", active=False, severity=300)
    alarms = (await active_alarms(ctx, NoArgs())).alarms
    assert [(a.source, a.severity, a.active) for a in alarms] == [
        ("TK-7.Level", 900, True),
        ("PU-1.FlowRate", 700, True),
    ]
    assert alarms[0].message == "TK-7.Level Low limit exceeded"
    assert alarms[0].condition_id == f"nsu={NS_URI};s=TK-7.Level.LowAlarm"
    assert alarms[0].time is not None
    await plant.alarm("TK-7.Level", "Low", active=False, severity=900)
    await plant.alarm("PU-1.FlowRate", "High", active=False, severity=700)
    assert (await active_alarms(ctx, NoArgs())).alarms == []


async def test_recent_events_keep_raise_and_clear(
    plant: PlantHandle, conn: OpcUaConnection, catalog: Catalog, settings: Settings
) -> None:
    ctx = ctx_at(settings, conn, catalog, datetime.now(UTC) + timedelta(seconds=30))
    assert (await recent_events(ctx, RecentEventsArgs())).alarms == []  # starts the log
    await plant.alarm("TK-7.Temperature", "High", active=True, severity=600)
    await plant.alarm("TK-7.Temperature", "High", active=False, severity=600)
    for _ in range(40):  # events arrive with the next publish
        events = (await recent_events(ctx, RecentEventsArgs())).alarms
        if len(events) == 2:
            break
        await asyncio.sleep(0.1)
    # Newest first: the clearing event, then the raising one.
    assert [(e.source, e.active, e.retain) for e in events] == [
        ("TK-7.Temperature", False, False),
        ("TK-7.Temperature", True, True),
    ]
    assert events[1].message == "TK-7.Temperature High limit exceeded"
    limited = await recent_events(ctx, RecentEventsArgs(limit=1))
    assert len(limited.alarms) == 1
