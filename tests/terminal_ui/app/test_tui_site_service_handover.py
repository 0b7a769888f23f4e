"""The terminal UI's Handover tab through the site service: a real service over its Unix
socket, the real demo plant and a real encrypted site. The incoming shift lead sees the
outgoing lead's handover, acknowledges it from the tab (the statement prepared by the
service, signed in the UI's process with her own key), has the service write her own
handover (recorded as hers, shown on the tab), and cannot acknowledge that one; written
with the model, the service's steps show on the tab and Escape drops it (audited)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Label

from agent.cli.tui_cmd import site_service_starter
from agent.handover import build_handover
from agent.handover.ack import CANCELLED_EVENT, acknowledgements, find_handover
from agent.people.identity import os_account
from agent.people.keys import PERSON_KEYFILE_ENV
from agent.serve.site_socket import socket_path
from plant.server import DemoPlantServer
from terminal_ui.app import PlantAgentApp
from terminal_ui.panes.handover import HandoverPane
from terminal_ui.panes.review_dialogs import NoteScreen
from terminal_ui.remote import SiteServiceBackend
from tests.agent.serve.serve_helpers import HeldModel, enroll_people, running_service
from tests.support.runtimes import SHIFT_LEAD, scripted_runtime

from .tui_helpers import focus_settled, wait_for

in_module_loop = pytest.mark.asyncio(loop_scope="module")
ALARM = "HX-101.CoolantFlow.Low"


@in_module_loop
async def test_a_shift_lead_acknowledges_and_writes_the_handover_through_the_service(
    live_plant: DemoPlantServer, site_home: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    me = os_account()
    model = HeldModel()
    async with scripted_runtime(site_home, live_plant.endpoint, model) as runtime:
        enroll_people(runtime, tmp_path, {"Rita Lead": (me, ["shift_lead"])})
        monkeypatch.setenv(PERSON_KEYFILE_ENV, str(tmp_path / f"{me}.key"))
        # The outgoing lead's, by the template (the service's sources, its held model).
        await build_handover(await runtime.shift_sources(), use_model=False)
        outgoing = find_handover(runtime.audit)
        assert outgoing.actor == SHIFT_LEAD
        backend = SiteServiceBackend(socket_path(site_home))
        async with running_service(runtime):
            app = PlantAgentApp(starter=site_service_starter(backend))
            async with app.run_test(size=(120, 32)) as pilot:
                await wait_for(lambda: app.started, pilot, what="the connection")
                await focus_settled(app, pilot)
                await pilot.press("f7")
                pane = app.screen.query_one(HandoverPane)
                await wait_for(lambda: pane.standing is not None, pilot,
                               what="the newest handover")
                assert pane.standing is not None and pane.standing.seq == outgoing.seq
                assert pane.standing.acknowledged_by == []
                pane.focus()

                await pilot.press("k")
                await wait_for(lambda: isinstance(app.screen, NoteScreen), pilot,
                               what="the acknowledge dialog")
                await pilot.press(*"took over at the board", "enter")
                step = pane.query_one("#handover-step", Label)
                await wait_for(lambda: (pane.standing is not None and pane.standing
                                        .acknowledged_by == ["Rita Lead (shift_lead)"])
                               or "refused" in str(step.render()),
                               pilot, what="her signed acknowledgement on the tab")
                assert "refused" not in str(step.render()), step.render()
                [ack] = acknowledgements(runtime.audit, runtime.people, outgoing)
                assert ack.note == "took over at the board" and ack.role == "shift_lead"

                await pilot.press("m", "g")  # the template: the model is held by the test
                await wait_for(lambda: pane.report is not None, pilot,
                               what="the handover the service wrote")
                await wait_for(lambda: pane.standing is not None
                               and pane.standing.seq != outgoing.seq, pilot,
                               what="hers as the newest")
                written = find_handover(runtime.audit)
                assert written.actor == "Rita Lead" and written.payload["writer"] == "template"
                assert pane.standing is not None and pane.standing.seq == written.seq

                await pilot.press("k")
                await wait_for(lambda: isinstance(app.screen, NoteScreen), pilot,
                               what="the acknowledge dialog")
                await pilot.press("enter")
                await wait_for(lambda: "acknowledge refused" in str(step.render()), pilot,
                               what="her own handover refused")

                # With the model (held by the test) and an alarm to write about: the
                # service's steps show on the tab, and Escape drops the handover (the
                # service audits the cancel).
                model.hold.set()
                await live_plant.force_alarm(ALARM, active=True)
                try:
                    await pilot.press("m", "g")
                    await wait_for(lambda: "the model is writing" in str(step.render()),
                                   pilot, what="the service's step on the tab")
                    await pilot.press("escape")
                    await wait_for(lambda: any(
                        r.payload.get("event") == CANCELLED_EVENT
                        for r in runtime.audit.search(kind="handover")), pilot,
                        what="the cancel audited by the service")
                finally:
                    model.hold.clear()
                    await live_plant.force_alarm(ALARM, active=False)
                assert find_handover(runtime.audit).seq == written.seq
            await backend.close()
        assert acknowledgements(runtime.audit, runtime.people, written) == []
