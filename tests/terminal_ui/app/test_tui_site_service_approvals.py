"""The terminal UI's Approvals tab through the site service: a real service over its Unix
socket, the real demo plant and a real encrypted site. The engineer approves and writes a
shift lead's request from the tab; each decision is prepared by the service and signed in
the UI's process with the engineer's own key; no site passphrase is given to the UI."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Markdown

from agent.cli.tui_cmd import site_service_starter
from agent.people.identity import os_account
from agent.people.names import person_key
from agent.serve.site_socket import socket_path
from agent.service.review_evidence import proposal_what_if
from plant.server import DemoPlantServer
from terminal_ui.app import PlantAgentApp
from terminal_ui.panes.approvals import ApprovalsPane
from terminal_ui.panes.review_dialogs import ConfirmScreen
from terminal_ui.remote import SiteServiceBackend
from tests.agent.serve.serve_helpers import HeldModel, enroll_people, running_service
from tests.agent.serve.signing_helpers import VALUE, pending_request
from tests.agent.serve.twin_helpers import twin_with_history
from tests.support.runtimes import scripted_runtime
from tools.context import utcnow

from .tui_helpers import focus_settled, wait_for

in_module_loop = pytest.mark.asyncio(loop_scope="module")


@in_module_loop
async def test_an_engineer_approves_and_writes_from_the_tab_through_the_service(
    live_plant: DemoPlantServer, site_home: Path, tmp_path: Path
) -> None:
    me = os_account()
    async with scripted_runtime(site_home, live_plant.endpoint, HeldModel()) as runtime:
        enroll_people(runtime, tmp_path, {"Sam Lead": ("sam-os", ["shift_lead"]),
                                          "Rita Eng": (me, ["engineer"])})
        request = await pending_request(runtime, "Sam Lead", "sam-os")
        await twin_with_history(runtime)  # the what-if of the request fits
        backend = SiteServiceBackend(socket_path(site_home))
        async with running_service(runtime):
            app = PlantAgentApp(starter=site_service_starter(backend))
            async with app.run_test(size=(100, 30)) as pilot:
                await wait_for(lambda: app.started, pilot, what="the connection")
                await focus_settled(app, pilot)
                await pilot.press("f5")
                pane = app.screen.query_one(ApprovalsPane)
                await wait_for(lambda: [r.id for r in pane.requests] == [request.id], pilot,
                               what="Sam's request on the tab")
                await wait_for(lambda: pane.shown == request.id, pilot, what="its detail")
                # The what-if, computed by the service from its twin as in process.
                shown = pane.query_one("#detail-text", Markdown)
                await wait_for(lambda: "HX-101 (heat_exchanger)" in shown.source, pilot,
                               what="the request's what-if on the tab")
                detail = await backend.review.proposal(request.id)
                assert detail.request.id == request.id and detail.what_if is not None
                here = proposal_what_if(runtime.twin.assets, runtime.twin.historian, request,
                                        utcnow())
                assert detail.what_if.result is not None and here.result is not None
                assert detail.what_if.change == here.change == "setpoint=34"
                assert [p.tag for p in detail.what_if.result.predictions] == [
                    p.tag for p in here.result.predictions]
                assert backend.review.request_actions(pane.requests[0]) == {"approve",
                                                                             "deny"}
                pane.query_one("#requests").focus()
                await pilot.press("a")
                await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot,
                               what="the confirmation")
                await pilot.press("y")
                await wait_for(lambda: runtime.approvals.get(request.id).state == "approved",
                               pilot, what="the signed approval")
                await wait_for(lambda: [r.state for r in pane.requests] == ["approved"],
                               pilot, what="the tab to show it approved")
                await pilot.press("x")
                await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot,
                               what="the confirmation of the write")
                await pilot.press("y")
                await wait_for(lambda: runtime.approvals.get(request.id).state == "executed",
                               pilot, what="the write")
            await backend.close()
        done = runtime.approvals.get(request.id)
        assert done.value == VALUE
        signed = [a.signed["statement"] for a in done.approvals]
        assert [(s["person"], s["verb"]) for s in signed] == [(person_key("Rita Eng"),
                                                               "approve")]
        assert all("nonce" in s for s in signed)
