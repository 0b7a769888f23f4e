"""The alarms tab acting on the real demo server through the real service: acknowledge
with a comment, comment, ask to shelve (approved by an engineer, then shown with its time
left), sorting and filtering; a role without rights is not offered the actions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from textual.widgets import DataTable, Input

from agent.llm.scripted import ScriptedModel
from agent.runtime import SiteRuntime
from agent.service import AgentService, open_service
from plant.server import DemoPlantServer
from terminal_ui.panes.alarms import AlarmsPane
from terminal_ui.panes.review_dialogs import NoteScreen
from terminal_ui.panes.shelve_dialog import ShelveScreen
from tests.support.people import Staff
from tests.support.sites import new_site

from .review_helpers import (
    ENGINEER,
    Host,
    PaneApp,
    as_person,
    demo_plant,
    settings_for,
)
from .review_helpers import wait_for as wait

pytestmark = pytest.mark.asyncio(loop_scope="module")

ALARM = "P-101.Vibration.High"
OTHER = "T-101.Level.Low"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def quiet_plant() -> AsyncIterator[DemoPlantServer]:
    """A healthy demo plant: the tests raise alarms by hand."""
    async with demo_plant([]) as plant:
        yield plant


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lead_service(quiet_plant: DemoPlantServer, tmp_path_factory: pytest.TempPathFactory
                       ) -> AsyncIterator[AgentService]:
    """The service as the shift lead runs the UI (no triage watcher)."""
    home = new_site(tmp_path_factory.mktemp("alarm-actions") / "site")
    async with SiteRuntime(settings_for(home, quiet_plant.endpoint),
                           endpoint=quiet_plant.endpoint, model=ScriptedModel()) as runtime, \
            open_service(runtime, triage=False) as service:
        yield service


async def test_acknowledge_comment_and_shelve_from_the_tab(
    quiet_plant: DemoPlantServer, lead_service: AgentService, tmp_path: Path
) -> None:
    await quiet_plant.force_alarm(ALARM, active=True)
    await quiet_plant.force_alarm(OTHER, active=True)
    app = PaneApp(lambda: AlarmsPane(lead_service, poll_s=0.5))
    async with app.run_test(size=(120, 32)) as pilot:
        pane = app.query_one(AlarmsPane)
        await wait(pilot, lambda: {a.name for a in pane.shown} >= {ALARM, OTHER}
                   and bool(pane.allowed), "both alarms and the role's actions")
        assert pane.allowed == {"acknowledge", "confirm", "comment", "shelve", "unshelve"}
        assert [a.name for a in pane.shown[:2]] == [ALARM, OTHER]  # high before medium
        table = pane.query_one("#alarms", DataTable)
        table.focus()
        table.move_cursor(row=0)

        await pilot.press("a")
        await wait(pilot, lambda: isinstance(app.screen, NoteScreen), "the ack dialog")
        await pilot.press(*"checking the pump", "enter")
        await wait(pilot, lambda: quiet_plant.conditions[ALARM].acked, "the server to ack")
        assert quiet_plant.conditions[ALARM].comment == "checking the pump"
        await wait(pilot, lambda: next(a for a in pane.alarms if a.name == ALARM).acked is True,
                   "the tab to read it back")

        await pilot.press("c")
        await wait(pilot, lambda: isinstance(app.screen, NoteScreen), "the comment dialog")
        await pilot.press(*"bearing noisy", "enter")
        await wait(pilot, lambda: quiet_plant.conditions[ALARM].comment == "bearing noisy",
                   "the comment on the server")

        await pilot.press("f")  # filter: unacknowledged only
        await wait(pilot, lambda: [a.name for a in pane.shown] == [OTHER], "the filter")
        table.move_cursor(row=0)
        await pilot.press("h")
        await wait(pilot, lambda: isinstance(app.screen, ShelveScreen), "the shelve dialog")
        await pilot.press(*"5", "enter", *"level transmitter swap", "enter")
        await wait(pilot, lambda: bool(lead_service.sources.audit.search(
            kind="approval", text="level transmitter swap")), "the shelve request")
        assert quiet_plant.conditions[OTHER].shelving == "Unshelved"  # not yet approved

        assert lead_service.review is not None
        engineer = as_person(lead_service.review, ENGINEER, "engineer")
        shelving = (await engineer.desk()).shelving
        [request] = await shelving.requests({"pending"})
        assert shelving.people is not None
        staff = Staff(shelving.people, tmp_path / "keys", ["shift_lead", "engineer"])
        await shelving.approve(request.id, staff(ENGINEER, "engineer"))
        await shelving.execute(request.id, staff(ENGINEER, "engineer"))
        assert quiet_plant.conditions[OTHER].shelving == "TimedShelved"
        await pilot.press("f", "f")  # filter: shelved
        await wait(pilot, lambda: [a.name for a in pane.shown] == [OTHER]
                   and pane.shown[0].left.startswith("4m"), "the shelved alarm, time left")
        await pilot.press("s")  # another sort order, same rows
        assert pane.sort == "time" and [a.name for a in pane.shown] == [OTHER]
    records = lead_service.sources.audit.search(kind="tool_result", limit=100)
    assert {r.tool for r in records} >= {"acknowledge_alarm", "comment_alarm", "shelve_alarm"}
    await quiet_plant.force_alarm(ALARM, active=False)


async def test_an_auditor_is_not_offered_the_actions(
    quiet_plant: DemoPlantServer, lead_service: AgentService
) -> None:
    assert lead_service.review is not None
    auditor = Host(as_person(lead_service.review, "ann", "auditor"))
    await quiet_plant.force_alarm("C-101.OilPressure.Low", active=True)
    app = PaneApp(lambda: AlarmsPane(auditor, poll_s=0.5))
    async with app.run_test(size=(120, 32)) as pilot:
        pane = app.query_one(AlarmsPane)
        await wait(pilot, lambda: bool(pane.shown) and pane.loaded, "the alarms")
        await pilot.pause()
        assert pane.allowed == set()
        keys = {b.binding.key for b in app.active_bindings.values()}
        assert "a" not in keys and "h" not in keys and "s" in keys
        await pilot.press("a")
        await pilot.pause()
        assert not isinstance(app.screen, NoteScreen)
        assert not app.query(Input)
    assert quiet_plant.conditions["C-101.OilPressure.Low"].acked is False
