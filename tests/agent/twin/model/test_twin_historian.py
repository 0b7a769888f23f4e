"""The historian: batched storage in the encrypted twin database, trend summaries with
gaps and time outside limits, downsampling and retention, live ingest from the demo plant
under a fault, and the tag_trend tool."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from agent.errors import UnknownNameError
from agent.twin.historian.analysis import TrendSummary
from agent.twin.historian.recorder import Recorder, sample_of
from agent.twin.historian.store import BAD, Historian, Sample
from agent.vault import Site
from agent.vault.layout import TWIN_DATABASE
from plant.server import DemoPlantServer
from tools import history as historian_tools
from tools.context import ToolContext, utcnow
from tools.history import TagTrendArgs, trend_summary
from tools.opcua.browse import browse_catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.models import Reading
from tools.registry import ToolRegistry

from .layout_server import LayoutServer
from .twin_helpers import make_settings

pytestmark = pytest.mark.asyncio(loop_scope="package")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _ramp(tag: str, start: datetime, minutes: int, per_hour: float, base: float) -> list[Sample]:
    """One sample per second rising ``per_hour`` units per hour."""
    t0 = start.timestamp()
    return [Sample(tag, t0 + i, base + per_hour * i / 3600.0) for i in range(minutes * 60)]


async def test_summary_slope_limits_and_gaps(site: Site) -> None:
    historian = Historian(site.database(TWIN_DATABASE))
    start = NOW - timedelta(minutes=30)
    rows = _ramp("P-101.Vibration", start, 30, per_hour=6.0, base=2.0)  # 2 -> 5 mm/s
    # Two minutes without data, and a lost connection (a bad sample) later on.
    rows = [r for r in rows if not (600 <= r.t - start.timestamp() < 720)]
    lost = start.timestamp() + 1500.5
    rows.append(Sample("P-101.Vibration", lost, None, BAD))
    rows = [r for r in rows if not (lost < r.t < lost + 30)]
    assert historian.insert_batch(rows) == len(rows)

    s = trend_summary(
        historian, "P-101.Vibration", window_minutes=30, now=NOW, unit="mm/s", low=0.5, high=4.5
    )
    assert s.slope_per_hour == pytest.approx(6.0, rel=1e-3)
    assert s.min == pytest.approx(2.0) and s.max == pytest.approx(5.0, abs=1e-2)
    assert s.count == len(rows) - 1 and s.bad_count == 1 and s.resolution == "raw"
    # 4.5 is crossed at minute 25: about 5 minutes above, less the 30 s lost.
    assert s.minutes_above_high == pytest.approx(4.5, abs=0.1)
    assert s.gap_count == 2
    spans = sorted(g.minutes for g in s.gaps)
    assert spans[0] == pytest.approx(0.5, abs=0.05) and spans[1] == pytest.approx(2.0, abs=0.05)

    with pytest.raises(UnknownNameError) as err:
        trend_summary(historian, "P-101.Vibraton", window_minutes=30, now=NOW)
    assert err.value.suggestions == ["P-101.Vibration"]


async def test_downsample_then_retention(site: Site) -> None:
    historian = Historian(site.database(TWIN_DATABASE))
    rows = _ramp("HX-101.HotOutletTemperature", NOW - timedelta(hours=3), 180, 1.0, 35.0)
    historian.insert_batch(rows)
    before = trend_summary(historian, "HX-101.HotOutletTemperature", window_minutes=180, now=NOW)

    report = historian.downsample(NOW - timedelta(hours=1))
    assert report.rolled_up == 7200 and report.rollups_written == 120
    raw, rolled = historian.count()
    assert (raw, rolled) == (3600, 120)
    after = trend_summary(historian, "HX-101.HotOutletTemperature", window_minutes=180, now=NOW)
    assert after.resolution == "mixed" and after.count == before.count
    assert after.mean == pytest.approx(before.mean, abs=1e-6)
    assert (after.min, after.max) == (before.min, before.max)
    assert after.slope_per_hour == pytest.approx(1.0, rel=1e-3) and after.gap_count == 0
    older = trend_summary(
        historian,
        "HX-101.HotOutletTemperature",
        window_minutes=60,
        now=NOW - timedelta(hours=1, minutes=30),
    )
    assert older.resolution == "1min" and older.count > 0

    # A day's retention seen two hours before NOW + 1 day: the oldest hour goes.
    gone = historian.apply_retention(days=1, now=NOW + timedelta(days=1, hours=-2))
    assert gone.deleted_rollups == 60 and gone.deleted_samples == 0
    assert historian.count() == (3600, 60)


async def test_bad_readings_become_gap_markers() -> None:
    bad = Reading(
        tag="P-101.FlowRate",
        value=None,
        quality="bad",
        status="BadNotConnected",
        stale=True,
        server_timestamp=NOW,
    )
    sample = sample_of(bad, NOW)
    assert sample is not None and sample.value is None and sample.quality == BAD
    text = Reading(tag="X.Mode", value="auto", quality="good", status="Good", stale=False)
    assert sample_of(text, NOW) is None


async def test_ingest_from_demo_plant_under_a_fault(
    demo_plant: DemoPlantServer, site: Site
) -> None:
    historian = Historian(site.database(TWIN_DATABASE))
    settings = make_settings(site.home, demo_plant.endpoint)
    demo_plant.model.clear("*")
    async with OpcUaConnection.from_settings(settings) as conn:
        catalog = await browse_catalog(conn)
        async with Recorder(historian, conn, list(catalog.tags.values()), period_ms=250) as rec:
            await demo_plant.wait_ticks(4)
            demo_plant.model.inject("bearing_wear", "P-101")
            await demo_plant.wait_ticks(30)  # ~7 s real, ~3.5 h of bearing wear
        stats = rec.stats
    demo_plant.model.clear("*")
    assert stats.produced > 47 * 10 and stats.ingested == stats.produced
    assert stats.pending == 0 and stats.batches >= 2

    ctx = ToolContext(settings=settings, catalog=catalog)
    ctx.historian = historian
    registry = ToolRegistry()
    historian_tools.register(registry)
    summary = await registry.get("tag_trend").run(
        ctx, TagTrendArgs(tag="P-101.Vibration", window_minutes=5)
    )
    assert isinstance(summary, TrendSummary)
    assert summary.unit and summary.high == 4.5
    assert summary.slope_per_hour is not None and summary.slope_per_hour > 0
    assert summary.max is not None and summary.max > 4.5 and summary.minutes_above_high > 0
    assert summary.count >= 10


async def test_lost_connection_is_recorded_as_a_gap(layout: LayoutServer, site: Site) -> None:
    historian = Historian(site.database(TWIN_DATABASE))
    settings = make_settings(site.home, layout.endpoint, timeout_s=1.0)
    tag = "Boiler-1.SteamPressure"
    async with OpcUaConnection.from_settings(settings) as conn:
        catalog = await browse_catalog(conn)
        rec = Recorder(historian, conn, [catalog.tag(tag)], period_ms=100, flush_s=0.1)
        await rec.start()
        for i in range(10):
            await layout.variables[tag].write_value(11.0 + i * 0.01)
            await asyncio.sleep(0.1)
        await layout.stop()  # the server goes away under the subscription
        deadline = asyncio.get_running_loop().time() + 10
        while not any(s.quality == BAD for s in historian.samples(tag, 0, 1e12)):
            assert asyncio.get_running_loop().time() < deadline, "the loss was never recorded"
            await asyncio.sleep(0.2)
        await rec.close()
    summary = trend_summary(historian, tag, window_minutes=1, now=utcnow())
    assert summary.bad_count == 1 and summary.count >= 5 and summary.unit is None
    lost = max(summary.gaps, key=lambda g: g.end)
    assert lost.end == summary.end  # the gap runs from the loss to now


async def test_recorder_keeps_up_with_many_changes(site: Site) -> None:
    """Readings arriving faster than one batch stores still all land, in few batches."""
    historian = Historian(site.database(TWIN_DATABASE))
    rec = Recorder(historian, conn=None, tags=[], flush_s=0.05)  # type: ignore[arg-type]
    for i in range(20_000):
        rec._on_reading(
            Reading(
                tag=f"T-{i % 50}.V",
                value=float(i),
                quality="good",
                status="Good",
                stale=False,
                source_timestamp=NOW + timedelta(milliseconds=i),
            )
        )
    stored = await rec.flush()
    assert stored == 20_000 and rec.stats.batches == 1
    assert historian.count()[0] == 20_000
    await asyncio.sleep(0)
