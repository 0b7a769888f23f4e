"""The alarms pane against a real service: the faulted cooler's active alarms, the triage
watcher's report appearing, a report arriving while the pane is open, a report opened and
read in full."""

from __future__ import annotations

import pytest
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Label, Markdown

from agent.service import AgentService
from plant.server import DemoPlantServer
from terminal_ui.panes.alarms import AlarmsPane
from terminal_ui.panes.markdown_screen import MarkdownScreen

from .review_helpers import PaneApp, wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_alarms_and_triage_reports_open_in_full(service: AgentService) -> None:
    assert service.reports is not None
    app = PaneApp(lambda: AlarmsPane(service, poll_s=0.3))
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(AlarmsPane)
        await wait_for(pilot, lambda: bool(pane.alarms) and bool(pane.report_ids),
                       "alarms and the watcher's first report")
        sources = {a.source for a in pane.alarms}
        assert "HX-101.HotOutletTemperature" in sources
        assert pane.query_one("#alarms", DataTable).row_count == len(pane.alarms)
        first = pane.report_ids[0]

        # A report stored while the pane is open shows up on the next poll, on top.
        stored, _ = service.reports.get(first)
        incident = stored.incident.model_copy(update={"key": "alarm:test-arrival"})
        later = stored.created.replace(year=stored.created.year + 1)
        service.reports.save(stored.model_copy(update={
            "id": "TR-arrived", "incident": incident, "created": later}))
        await wait_for(pilot, lambda: pane.report_ids[:1] == ["TR-arrived"],
                       "the new report")
        assert pane.report_ids[1:] == [first]

        # Open the watcher's report: the full Markdown, scrollable by keys.
        pane.query_one("#reports", DataTable).move_cursor(row=1)
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, MarkdownScreen), "the report")
        screen = app.screen
        text = screen.query_one(Markdown).source or ""
        assert first in text and "cooling_loss" in text and "## Evidence" in text
        view = screen.query_one(VerticalScroll)
        await pilot.press("space")
        # longer than the screen, and it scrolls (scrolling animates: wait, don't sample)
        await wait_for(pilot, lambda: view.scroll_y > 0, "the report to scroll")
        await pilot.press("escape")
        assert app.screen is not screen
        assert app.query_one(AlarmsPane) is pane


async def test_alarms_pane_survives_the_server_going_away(
    service: AgentService, faulted_plant: DemoPlantServer
) -> None:
    # Last in the module: the plant stops for good.
    app = PaneApp(lambda: AlarmsPane(service, poll_s=0.5))
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(AlarmsPane)
        await wait_for(pilot, lambda: bool(pane.report_ids), "the first poll")
        await faulted_plant.stop()
        status = pane.query_one("#alarms-status", Label)
        await wait_for(pilot, lambda: "alarms unavailable" in str(status.content),
                       "the status line to say the alarms are unavailable")
        assert pane.report_ids  # the reports are on the site: they still show
        assert app.is_running
