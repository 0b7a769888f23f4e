"""Snapshot tests of the Ask, evidence, Plant, help, start and trend screens at 80x24 and 160x48.

Live values are noisy and clocks move, so the screens are fed data recorded from a real
run (tui_recorded.json: a real model's answer and its events, a real plant snapshot)
through the same methods and types the agent service provides. Update the SVGs with
``pytest tests/terminal_ui/app/test_tui_snapshots.py --snapshot-update`` after a deliberate change.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input

from agent.service.views import TrendView
from agent.site_time import SiteTime
from terminal_ui.help import HelpScreen
from terminal_ui.panes.ask import AskPane
from terminal_ui.panes.plant import PlantPane
from terminal_ui.startup import StartupView
from terminal_ui.trend import TrendScreen

from .tui_helpers import PaneApp, Recorded, RecordedBackend, wait_for

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    """The data of one real run."""
    return Recorded()


def ask_app(recorded: Recorded) -> PaneApp:
    return PaneApp(RecordedBackend(recorded), lambda backend: AskPane(backend))


async def ask_recorded_question(pilot: Pilot[Any], recorded: Recorded) -> None:
    """Type the recorded question and wait until its answer and citations are shown."""
    app = pilot.app
    question = app.query_one("#question", Input)
    question.cursor_blink = False
    question.focus()
    await pilot.press(*recorded.question, "enter")
    pane = app.query_one(AskPane)
    await wait_for(lambda: bool(pane.citation_views) and not pane.running, pilot,
                   what="the recorded answer")


@pytest.mark.parametrize("size", SIZES)
def test_ask_screen(snap_compare: Any, recorded: Recorded, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await ask_recorded_question(pilot, recorded)

    assert snap_compare(ask_app(recorded), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_evidence_screen(snap_compare: Any, recorded: Recorded, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await ask_recorded_question(pilot, recorded)
        pilot.app.query_one("#citations").focus()
        await pilot.press("enter")

    assert snap_compare(ask_app(recorded), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_plant_screen(snap_compare: Any, recorded: Recorded, size: tuple[int, int]) -> None:
    app = PaneApp(RecordedBackend(recorded), lambda backend: PlantPane(backend, refresh_s=None))

    async def run_before(pilot: Pilot[Any]) -> None:
        pane = pilot.app.query_one(PlantPane)
        await wait_for(lambda: pane.snapshot is not None, pilot, what="the plant")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare: Any, recorded: Recorded, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.app.push_screen(HelpScreen())

    assert snap_compare(ask_app(recorded), terminal_size=size, run_before=run_before)


class _Starting(App[None]):
    """The start screen with a server down and the model loading, on a fixed clock."""

    now = 88.0

    def compose(self) -> ComposeResult:
        yield StartupView(clock=lambda: self.now)

    def on_mount(self) -> None:
        view = self.query_one(StartupView)
        view.report("site", "/srv/plantagent unlocked", done=True)
        view.report("opcua", "server down: cannot connect to the OPC UA server at "
                             "opc.tcp://10.0.0.5:4840/: Connect call failed; trying again "
                             "every 5 s (attempt 3)")
        view.report("model", "loading the model (the first start takes longest)")
        self.now = 112.0  # 24 s later
        view.redraw()


@pytest.mark.parametrize("size", SIZES)
def test_startup_screen(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(_Starting(), terminal_size=size)


def _fixed_trend() -> TrendView:
    """An hour of a flow that climbs over its high limit, on a fixed day."""
    end = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    times = tuple(end - timedelta(minutes=60) + timedelta(seconds=30 * i) for i in range(121))
    values = tuple(40.0 + 8.0 * math.sin(i / 9) + (i / 120) ** 3 * 18 for i in range(121))
    return TrendView(tag="P-101.FlowRate", unit="m³/h", low=20.0, high=60.0,
                     start=end - timedelta(hours=1), end=end, times=times, values=values)


class _Trending(App[None]):
    """The trend screen over fixed data, times in Berlin on the fixed day."""

    def on_mount(self) -> None:
        async def source(tag: str, hours: float) -> TrendView:
            return _fixed_trend()

        site = SiteTime(zone=ZoneInfo("Europe/Berlin"),
                        clock=lambda: datetime(2026, 3, 1, 14, 0, tzinfo=UTC))
        self.push_screen(TrendScreen("P-101.FlowRate", source, site))


@pytest.mark.parametrize("size", SIZES)
def test_trend_screen(snap_compare: Any, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_for(lambda: getattr(pilot.app.screen, "view", None) is not None, pilot,
                       what="the trend")

    assert snap_compare(_Trending(), terminal_size=size, run_before=run_before)
