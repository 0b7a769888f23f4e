"""The real app started as `plantagent tui` starts it, with the plant's server down: the
UI comes up at once and says the server is down while it retries; once the server is
started the tabs show its live values."""

from __future__ import annotations

import socket
from contextlib import AsyncExitStack

import pytest
from textual.widgets import TabbedContent

from agent.cli.tui_cmd import service_starter
from agent.errors import OpcUaError
from agent.llm.scripted import ScriptedModel
from agent.runtime import SiteRuntime
from agent.settings import Settings, SimSettings
from plant.server import DemoPlantServer
from terminal_ui.app import PlantAgentApp
from terminal_ui.panes.plant import PlantPane
from terminal_ui.startup import StartupView
from terminal_ui.status import StatusBar

from .tui_helpers import PASSPHRASE, site_settings, wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_ui_starts_with_the_server_down_and_connects_once_it_is_up(
    settings: Settings,
) -> None:
    port = _free_port()
    endpoint = f"opc.tcp://127.0.0.1:{port}/plantagent/"
    quick = site_settings(settings.home, opcua={"timeout_s": 1.0})
    plant = DemoPlantServer(SimSettings(port=port, speed=60.0, history_hours=0.1))
    async with SiteRuntime(quick, endpoint=endpoint, model=ScriptedModel(),
                           passphrase=PASSPHRASE, plant_name="the demo plant") as runtime, \
            AsyncExitStack() as stack:
        app = PlantAgentApp(starter=service_starter(runtime, stack, triage=False,
                                                    retry_s=0.3), initial_tab="plant")
        try:
            async with app.run_test(size=(80, 24)) as pilot:
                view = app.query_one(StartupView)
                await wait_for(lambda: "attempt 2" in view.plain(), pilot,
                               what="the server reported down, twice")
                text = view.plain()
                assert "server down" in text and "cannot connect" in text
                assert "✓ Site" in text and not app.started
                with pytest.raises(OpcUaError):  # really down, not pretended
                    await runtime.catalog()

                await plant.start()
                # Started, and the main screen composed (on a loaded machine the flag
                # comes a few frames before the panes are mounted).
                await wait_for(lambda: app.started and bool(app.screen.query(PlantPane)),
                               pilot, limit_s=60, what="the tabs once the server is up")
                pane = app.screen.query_one(PlantPane)
                await wait_for(lambda: pane.snapshot is not None, pilot,
                               what="the plant's values")
                assert pane.snapshot is not None and pane.snapshot.connection == "connected"
                assert len(pane.snapshot.equipment) >= 3
                await pilot.press("f4")  # the other tabs work as in a normal start
                await pilot.pause()
                tabs = app.screen.query_one("#tabs", TabbedContent)
                assert tabs.active == "alarms"
                # The board's counts go on the tab's title and into the status bar.
                bar = app.screen.query_one(StatusBar)
                await wait_for(lambda: bar.alarms is not None and bar.last is not None,
                               pilot, what="the alarm counts")
                assert bar.alarms is not None
                total, unack = bar.alarms
                assert str(tabs.get_tab("alarms").label).startswith(f"F4 Alarms ({total}")
                shown = str(bar.render())
                assert ("no alarms" in shown) if total == 0 else (f"{total} alarm" in shown)
                assert unack <= total
        finally:
            await plant.stop()
