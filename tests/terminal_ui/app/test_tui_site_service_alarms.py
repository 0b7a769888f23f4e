"""The terminal UI's Alarms tab through the site service: a real service over its Unix
socket, the real demo plant and a real encrypted site. The shift lead sees the board
(with its counts on the tab) and a triage report, opens the report, acknowledges and asks
to shelve an alarm from the tab; the service does it as her own enrolled person."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import DataTable, Markdown

from agent.cli.tui_cmd import site_service_starter
from agent.people.identity import os_account
from agent.serve.site_socket import socket_path
from plant.server import DemoPlantServer
from terminal_ui.app import PlantAgentApp
from terminal_ui.panes.alarms import AlarmsPane
from terminal_ui.panes.markdown_screen import MarkdownScreen
from terminal_ui.panes.review_dialogs import NoteScreen
from terminal_ui.panes.shelve_dialog import ShelveScreen
from terminal_ui.remote import SiteServiceBackend
from terminal_ui.trend import TrendScreen
from tests.agent.serve.serve_helpers import HeldModel, enroll_people, running_service
from tests.support.runtimes import scripted_runtime
from tests.terminal_ui.review.review_snapshot_data import triage_report

from .tui_helpers import focus_settled, trend_shown, wait_for

in_module_loop = pytest.mark.asyncio(loop_scope="module")

ALARM = "HX-101.CoolantFlow.Low"


@in_module_loop
async def test_a_shift_lead_reads_and_acts_on_alarms_from_the_tab_through_the_service(
    live_plant: DemoPlantServer, site_home: Path, tmp_path: Path
) -> None:
    me = os_account()
    async with scripted_runtime(site_home, live_plant.endpoint, HeldModel()) as runtime:
        enroll_people(runtime, tmp_path, {"Rita Lead": (me, ["shift_lead"])})
        report = triage_report()
        runtime.reports.save(report)
        backend = SiteServiceBackend(socket_path(site_home))
        await live_plant.force_alarm(ALARM, active=True)
        try:
            async with running_service(runtime):
                app = PlantAgentApp(starter=site_service_starter(backend))
                async with app.run_test(size=(120, 32)) as pilot:
                    await wait_for(lambda: app.started, pilot, what="the connection")
                    await focus_settled(app, pilot)
                    await pilot.press("f4")
                    pane = app.screen.query_one(AlarmsPane)
                    await wait_for(lambda: any(a.name == ALARM and not a.acked
                                               for a in pane.alarms)
                                   and pane.report_ids == [report.id] and bool(pane.allowed),
                                   pilot, what="the board, the report and the actions")
                    assert pane.allowed == {"acknowledge", "confirm", "comment", "shelve",
                                            "unshelve"}
                    tabs = app.screen.query_one("#tabs")
                    label = str(tabs.get_tab("alarms").label)  # type: ignore[attr-defined]
                    assert label.startswith(f"F4 Alarms ({len(pane.alarms)}")

                    # The report, rendered by the service, read in full.
                    pane.query_one("#reports", DataTable).focus()
                    await pilot.press("o")
                    await wait_for(lambda: isinstance(app.screen, MarkdownScreen), pilot,
                                   what="the report")
                    text = app.screen.query_one(Markdown).source or ""
                    assert report.id in text and "cooling_loss" in text
                    await pilot.press("escape")
                    await wait_for(lambda: not isinstance(app.screen, MarkdownScreen), pilot,
                                   what="the report to close")

                    # The alarm's trend, read by the service from the plant's history.
                    table = pane.query_one("#alarms", DataTable)
                    table.focus()
                    table.move_cursor(row=[a.name for a in pane.shown].index(ALARM))
                    await pilot.press("t")
                    trend = await trend_shown(app, pilot)
                    assert trend.view is not None and trend.view.tag == "HX-101.CoolantFlow"
                    assert trend.view.values  # the plant's pre-filled history
                    await pilot.press("escape")
                    await wait_for(lambda: not isinstance(app.screen, TrendScreen), pilot,
                                   what="the trend to close")

                    # Acknowledge with a comment, as Rita.
                    table.focus()
                    table.move_cursor(row=[a.name for a in pane.shown].index(ALARM))
                    await pilot.press("a")
                    await wait_for(lambda: isinstance(app.screen, NoteScreen), pilot,
                                   what="the ack dialog")
                    await pilot.press(*"fitter called", "enter")
                    await wait_for(lambda: live_plant.conditions[ALARM].acked is True, pilot,
                                   what="the server to acknowledge")
                    await wait_for(lambda: any(a.name == ALARM and a.acked
                                               for a in pane.alarms), pilot,
                                   what="the tab to read it back")

                    # Ask to shelve: a request of Rita's, waiting for an approver.
                    table.move_cursor(row=[a.name for a in pane.shown].index(ALARM))
                    await pilot.press("h")
                    await wait_for(lambda: isinstance(app.screen, ShelveScreen), pilot,
                                   what="the shelve dialog")
                    await pilot.press(*"5", "enter", *"valve being replaced", "enter")
                    await wait_for(lambda: bool(runtime.audit.search(
                        kind="approval", text="valve being replaced")), pilot,
                        what="the shelve request")
                    desk = await runtime.alarm_desk()
                    [asked] = await desk.shelving.requests({"pending"})
                    assert asked.requested_by == "Rita Lead" and asked.condition == ALARM
                    assert live_plant.conditions[ALARM].shelving == "Unshelved"
                await backend.close()
        finally:
            await live_plant.force_alarm(ALARM, active=False)
        acked = [r for r in runtime.audit.search(text=ALARM)
                 if "acknowledge" in json.dumps(r.payload)]
        assert acked and {r.actor for r in acked} == {"Rita Lead"}
