"""The alarm performance report: a scripted day of the demo plant's alarms, sent through
the real server into its event history, read back and measured; every figure checked
against the arithmetic done by hand here. And a history with a gap, reported as such."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from agent.alarms.gather import gather_inputs
from agent.alarms.metrics import Rules
from agent.alarms.report import ReportInputs, build_report
from agent.alarms.report_text import markdown
from agent.policy import load_policy
from agent.settings import AlarmSettings, SimSettings
from plant.server import DemoPlantServer
from tools.opcua.browse import browse_catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.models import ConditionState

from .alarms_helpers import site_settings

NOW = datetime.now(UTC).replace(microsecond=0)
T0 = NOW - timedelta(hours=25)  # the scripted day is [T0, T0 + 24 h]
DAY_END = T0 + timedelta(hours=24)

CHATTER = "P-101.DischargePressure.Low"  # medium
FLEETING = "F-101.OutletPressure.Low"  # medium
FLOOD_LOW = ["T-101.Level.Low", "T-101.InletFlow.Low", "T-101.Volume.Low",
             "P-101.FlowRate.Low", "P-101.SuctionPressure.Low", "P-101.Speed.Low"]
FLOOD_HIGH = ["F-101.DifferentialPressure.High", "P-101.MotorCurrent.High",
              "P-101.Vibration.High", "P-101.Power.High", "T-101.InletValvePosition.High",
              "P-101.DischargePressure.High"]
UTILITY = "C-101.DischargePressure.High"  # high
URGENT = "M-101.WindingTemperature.High"  # urgent
STALE = "T-101.Temperature.High"  # raised before the day, never cleared
SHELVED = "C-101.AirFlow.Low"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def script_day(plant: DemoPlantServer) -> None:
    """The day, in time order, through the server's own condition logic."""
    await plant.force_alarm(STALE, active=True, when=T0 - timedelta(minutes=30))
    for start in (60, 60 + 20 / 60, 60 + 40 / 60, 61):  # 4 activations within 60 s
        await plant.force_alarm(CHATTER, active=True, when=at(start))
        await plant.force_alarm(CHATTER, active=False, when=at(start + 5 / 60))
    for start in (100, 200, 400):
        await plant.force_alarm(UTILITY, active=True, when=at(start))
        await plant.force_alarm(UTILITY, active=False, when=at(start + 10))
    await plant.force_alarm(FLEETING, active=True, when=at(300))
    await plant.force_alarm(FLEETING, active=False, when=at(300 + 0.5 / 60))  # 0.5 s
    for i, name in enumerate(FLOOD_LOW + FLOOD_HIGH):  # 12 within 3 minutes
        await plant.force_alarm(name, active=True, when=at(600 + i * 0.25))
    for name in FLOOD_LOW + FLOOD_HIGH:
        await plant.force_alarm(name, active=False, when=at(700))
    await plant.act_as_of(at(800), SHELVED, lambda book: book.timed_shelve(SHELVED, 3600_000))
    await plant.force_alarm(URGENT, active=True, when=at(1000))
    urgent = plant.conditions[URGENT]
    eid = urgent.last_event_id or b""
    # An acknowledgement is an event, never an activation.
    await plant.act_as_of(at(1002), URGENT, lambda book: book.acknowledge(URGENT, eid, "seen"))
    await plant.force_alarm(URGENT, active=False, when=at(1010))
    await plant.wait_ticks(2)  # the shelve ran out long ago: the next cycle ends it


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def day_plant() -> AsyncIterator[DemoPlantServer]:
    """A demo plant keeping 26 h of event history, with the scripted day in it."""
    sim = SimSettings(port=0, speed=1.0, history_hours=26, history_period_s=600)
    async with DemoPlantServer(sim, publish_interval_s=0.25) as server:
        await script_day(server)
        yield server


def rules() -> Rules:
    alarms = AlarmSettings(positions={"pumping": ["T-101", "F-101", "P-101"],
                                      "utilities": ["*"]})
    return Rules.from_settings(alarms, load_policy(None).policy.alarms)


@pytest.mark.asyncio(loop_scope="module")
async def test_a_scripted_day_matches_the_figures_worked_out_by_hand(
    day_plant: DemoPlantServer, tmp_path: Path
) -> None:
    settings = site_settings(tmp_path, day_plant.endpoint)
    async with OpcUaConnection.from_settings(settings) as conn:
        catalog = await browse_catalog(conn)
        inputs = await gather_inputs(conn, catalog, None, since=T0, until=DAY_END, now=NOW)
    report = build_report(inputs, since=T0, until=DAY_END, rules=rules(), generated=NOW)

    # By hand: chatter 4, fleeting 1, flood 12, utility 3, urgent 1 = 21 activations in
    # 24 covered hours; the stale alarm was raised before the day (standing, not counted).
    assert report.covered_hours == 24 and report.gaps == []
    assert report.activations == 21
    pumping = next(p for p in report.positions if p.position == "pumping")
    utilities = next(p for p in report.positions if p.position == "utilities")
    assert pumping.activations == 4 + 1 + 12 and utilities.activations == 3 + 1
    assert pumping.average_per_10min == pytest.approx(17 / 144, abs=1e-3)
    assert utilities.average_per_10min == pytest.approx(4 / 144, abs=1e-3)
    assert pumping.assessment == "very likely acceptable"
    assert (pumping.intervals, pumping.max_per_10min) == (144, 12)
    assert pumping.intervals_over_manageable == 2  # [60, 70) with 4 and [600, 610) with 12
    assert pumping.flood_intervals == 1
    assert pumping.flood_percent == pytest.approx(100 / 144, abs=0.01)
    assert utilities.max_per_10min == 1 and utilities.flood_intervals == 0

    assert [(c.condition, c.activations, c.most_in_window) for c in report.chattering] == [
        (CHATTER, 4, 4)]
    assert report.fleeting == {FLEETING: 1}
    assert [s.condition for s in report.stale] == [STALE]
    assert report.stale[0].hours == pytest.approx(24.5, abs=0.01)

    assert report.bad_actors[0].condition == CHATTER and report.bad_actors[0].activations == 4
    assert report.bad_actors[1].condition == UTILITY and report.bad_actors[1].activations == 3
    assert len(report.bad_actors) == 10
    assert report.top_share == pytest.approx((4 + 3 + 8) / 21, abs=1e-4)
    assert report.priority_split == {"low": 0, "medium": 4 + 1 + 6, "high": 6 + 3,
                                     "urgent": 1}

    assert [(s.condition, s.minutes, s.ongoing) for s in report.shelved] == [
        (SHELVED, 60.0, False)]
    assert report.suppressed == []
    # Every figure cites its evidence, and the evidence exists.
    ids = {e.id for e in report.evidence}
    assert all(f.evidence and set(f.evidence) <= ids for f in report.figures)
    assert report.figure("rate:pumping").assessment == "very likely acceptable"
    count = report.server_metrics[0].values["AlarmCount"] if report.server_metrics else None
    assert isinstance(count, int) and count >= 22  # the day and the stale one, as counted
    assert "Top bad actors" in markdown(report)


def _event(name: str, minutes: float, active: bool) -> ConditionState:
    when = T0 + timedelta(minutes=minutes)
    return ConditionState(condition_id=f"nsu=x;s={name}", name=name, source=name.rsplit(
        ".", 1)[0], severity=500, time=when, active=active, active_since=when,
        event_id=f"{name}{minutes}{active}".encode().hex())


def test_a_history_with_a_gap_is_reported_and_left_out() -> None:
    journal = [_event("X-1.A.High", m, a) for m, a in ((10, True), (11, False),
                                                       (100, True), (101, False))]
    server = [_event("X-1.A.High", m, a) for m, a in ((100, True), (101, False),
                                                      (900, True), (901, False))]
    inputs = ReportInputs(journal_events=journal, journal_kept=True,
                          journal_spans=[(T0, T0 + timedelta(hours=4))],
                          server_events=server, server_history=True, server_until=NOW)
    report = build_report(inputs, since=T0, until=DAY_END, rules=rules(), generated=NOW)
    # Covered: [0 h, 4 h] by the journal and [100 min, 24 h] by the server's history
    # (from its first event on): no gap. Without the journal's second half, one appears.
    assert report.gaps == [] and report.activations == 3  # the 100-minute one counted once
    inputs.journal_spans = [(T0, T0 + timedelta(minutes=50))]
    inputs.server_events = [e for e in server if e.time and e.time > T0 + timedelta(hours=5)]
    gapped = build_report(inputs, since=T0, until=DAY_END, rules=rules(), generated=NOW)
    assert [(g.start, g.end) for g in gapped.gaps] == [(T0 + timedelta(minutes=50),
                                                        T0 + timedelta(minutes=900))]
    assert gapped.covered_hours == pytest.approx(24 - 14 - 1 / 6, abs=0.01)
    assert gapped.figure("coverage").assessment == "has gaps"
    assert gapped.activations == 2  # the one at 100 minutes fell in the gap
    assert "gap" in markdown(gapped) and gapped.notes[0].startswith("the history has 1 gap")
