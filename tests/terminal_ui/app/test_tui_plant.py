"""The Plant pane and the status bar against the real demo plant: live values with limits
and sparklines, then the server going away (stale values, no crash), and a terminal
resized very small."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.command import CommandPalette
from textual.widgets import TabbedContent, Tree

from agent.llm.scripted import ScriptedModel
from agent.settings import Settings, SimSettings
from plant.server import DemoPlantServer
from terminal_ui.app import PlantAgentApp
from terminal_ui.help import HelpScreen
from terminal_ui.panes.plant import PlantPane
from terminal_ui.status import StatusBar
from terminal_ui.trend import TrendScreen

from .tui_helpers import (
    final,
    focus_settled,
    open_trend,
    screen_text,
    scripted_service,
    site_settings,
    wait_for,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_plant_shows_live_values_then_marks_them_stale_when_the_server_stops(
    settings: Settings,
) -> None:
    quick = site_settings(settings.home, opcua={"timeout_s": 1.0})
    plant = DemoPlantServer(SimSettings(port=0, speed=60.0, history_hours=0.2))
    await plant.start()
    try:
        async with scripted_service(quick, plant.endpoint, ScriptedModel()) as service:
            app = PlantAgentApp(service, initial_tab="plant")
            async with app.run_test(size=(100, 40)) as pilot:
                pane = app.query_one(PlantPane)
                await wait_for(lambda: pane.snapshot is not None, pilot, what="the plant")
                assert pane.snapshot is not None
                tags = {t.name: t for e in pane.snapshot.equipment for t in e.tags}
                flow = tags["P-101.FlowRate"]
                assert isinstance(flow.value, float) and flow.quality == "good"
                assert flow.unit == "m³/h" and flow.low is not None and flow.high is not None
                assert len(flow.history) > 3  # backfilled from the server's history
                shown = str(pane._tree_nodes["P-101.FlowRate"].label)
                assert "m³/h" in shown and f"{flow.value:.4g}" in shown

                await plant.stop()
                for _ in range(6):
                    pane.action_refresh_plant()
                    await pilot.pause(0.3)
                await wait_for(lambda: pane.snapshot is not None
                               and pane.snapshot.connection == "down", pilot,
                               limit_s=30, what="the plant to be seen down")
                stale = {t.name: t for e in pane.snapshot.equipment for t in e.tags}
                assert stale["P-101.FlowRate"].value is not None  # the last value is kept
                assert all(t.quality == "stale" for t in stale.values())
                assert "STALE" in str(pane._tree_nodes["P-101.FlowRate"].label)
                bar = app.query_one(StatusBar)
                bar.refresh_status()
                await wait_for(lambda: bar.last is not None and bar.last.connection == "down",
                               pilot, what="the status bar to say so")
                text = screen_text(app)
                assert "OPC UA down" in text and "showing last values" in text
    finally:
        await plant.stop()


async def test_renders_at_80x24_and_when_resized_to_20x8(
    settings: Settings, live_plant: DemoPlantServer
) -> None:
    model = ScriptedModel([final("P-101 is running.", "E1")])
    async with scripted_service(settings, live_plant.endpoint, model) as service:
        app = PlantAgentApp(service)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(lambda: app.query_one(StatusBar).last is not None, pilot,
                           what="the status bar")
            text = screen_text(app)
            assert "F2 Ask" in text and "F3 Plant" in text and "OPC UA connected" in text
            assert "on-site only" in text and "tui-shift-lead (shift_lead)" in text
            for tab in ("plant", "alarms", "approvals", "audit", "handover", "ask"):
                await pilot.press({"ask": "f2", "plant": "f3", "alarms": "f4",
                                   "approvals": "f5", "audit": "f6", "handover": "f7"}[tab])
                await pilot.resize_terminal(20, 8)
                await pilot.pause(0.2)
                small = screen_text(app)
                assert len(small.splitlines()) == 8
                await pilot.resize_terminal(80, 24)
                await pilot.pause(0.1)
            await pilot.press("f3", "question_mark")  # ? outside a text field opens help
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)
            await pilot.press("f2", "f1")  # F1 works in the question field too
            assert isinstance(app.screen, HelpScreen)
            await pilot.resize_terminal(20, 8)
            await pilot.pause(0.2)
            assert screen_text(app).strip()


#: Text each pane shows once it is on screen.
PANE_TEXT = {
    "f3": "47 tags",
    "f4": "Triage reports",
    "f5": "acting as tui-shift-lead",
    "f6": "verify",
    "f7": "Window: this shift",
}


async def test_every_tab_fills_the_screen_of_the_real_app_with_its_pane(
    settings: Settings, live_plant: DemoPlantServer
) -> None:
    # The panes live in the app's TabPanes: a pane that sizes itself to its content
    # there shows nothing at all (the test apps of the panes hid that once).
    async with scripted_service(settings, live_plant.endpoint, ScriptedModel([])) as service:
        app = PlantAgentApp(service)
        async with app.run_test(size=(80, 24)) as pilot:
            await focus_settled(app, pilot)
            for key, shown in PANE_TEXT.items():  # the first key right after start counts
                await pilot.press(key)
                await wait_for(lambda s=shown: s in screen_text(app), pilot,  # type: ignore[misc]
                               what=f"the pane of {key}")
                tabs = app.query_one("#tabs")
                pane = tabs.query("TabPane").filter(f"#{tabs.active}").first().children[0]  # type: ignore[attr-defined]
                assert pane.size.height >= 18, (key, pane.size)


async def test_the_command_palette_finds_a_tag_and_jumps_to_it_in_the_plant_tab(
    settings: Settings, live_plant: DemoPlantServer
) -> None:
    async with scripted_service(settings, live_plant.endpoint, ScriptedModel([])) as service:
        app = PlantAgentApp(service)
        async with app.run_test(size=(80, 24)) as pilot:
            await focus_settled(app, pilot)
            pane = app.query_one(PlantPane)
            await wait_for(lambda: pane.snapshot is not None, pilot, what="the plant")
            await pilot.press("ctrl+p")
            await wait_for(lambda: isinstance(app.screen, CommandPalette), pilot,
                           what="the palette")
            await pilot.press(*"P-101.Bearing")
            await wait_for(lambda: "Go to P-101.BearingTemperature" in screen_text(app), pilot,
                           what="the tag among the hits")
            await pilot.press("enter")
            tree = pane.query_one("#plant-tree", Tree)
            await wait_for(lambda: tree.cursor_node is not None
                           and tree.cursor_node.data == "P-101.BearingTemperature", pilot,
                           what="the cursor on the tag")
            assert app.query_one("#tabs", TabbedContent).active == "plant"
            # The plant commands are there by name too.
            await pilot.press("ctrl+p", *"alarm board", "enter")
            await wait_for(lambda: app.query_one("#tabs", TabbedContent).active == "alarms",
                           pilot, what="the alarms tab")


async def test_enter_on_a_tag_opens_its_trend_from_the_servers_history(
    settings: Settings, live_plant: DemoPlantServer
) -> None:
    async with scripted_service(settings, live_plant.endpoint, ScriptedModel([])) as service:
        app = PlantAgentApp(service, initial_tab="plant")
        async with app.run_test(size=(100, 40)) as pilot:
            pane = app.query_one(PlantPane)
            await wait_for(lambda: pane.snapshot is not None, pilot, what="the plant")
            trend = await open_trend(app, pilot, pane, "P-101.FlowRate")
            assert trend.view is not None and trend.hours == 1
            assert len(trend.view.values) > 10  # the plant's pre-filled history
            assert trend.view.low is not None and trend.view.high is not None
            shown = screen_text(app)
            assert "P-101.FlowRate" in shown and "normal range" in shown and "┄" in shown
            await pilot.press("w")
            await wait_for(lambda: trend.view is not None and trend.hours == 8
                           and trend.view.end - trend.view.start == timedelta(hours=8),
                           pilot, what="the 8 h window")
            await pilot.press("escape")
            await wait_for(lambda: not isinstance(app.screen, TrendScreen), pilot,
                           what="the trend to close")
