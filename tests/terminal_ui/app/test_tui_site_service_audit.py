"""The terminal UI's Audit tab through the site service, read-only: a real service over
its Unix socket, the real demo plant and a real encrypted site. An auditor pages the log
(newest first, filtered by the service, times in the site's zone as in process) and
sees it verified, and adds a review note
with `n`: prepared by the service, signed in the UI with the auditor's own key, recorded
by the service (the shift lead's refusal is in test_tui_site_service.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Label

from agent.cli.tui_cmd import site_service_starter
from agent.people.identity import os_account
from agent.people.names import person_key
from agent.people.statements import SignedStatement, check_signature
from agent.serve.site_socket import socket_path
from agent.site_time import SiteTime
from plant.server import DemoPlantServer
from terminal_ui.app import PlantAgentApp
from terminal_ui.panes.audit import AuditPane
from terminal_ui.panes.review_dialogs import ReviewNoteScreen
from terminal_ui.remote import SiteServiceBackend
from tests.agent.serve.serve_helpers import HeldModel, enroll_people, running_service
from tests.support.runtimes import scripted_runtime

from .tui_helpers import focus_settled, wait_for

in_module_loop = pytest.mark.asyncio(loop_scope="module")
#: The site's zone: half an hour off any whole-hour zone, so no machine's zone matches it.
ZONE = "Asia/Kolkata"


@in_module_loop
async def test_an_auditor_reads_the_log_from_the_tab_through_the_service(
    live_plant: DemoPlantServer, site_home: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    me = os_account()
    monkeypatch.setenv("PLANTAGENT_PERSON_KEYFILE", str(tmp_path / f"{me}.key"))
    # The site's clock is not UTC (nor any offset a whole hour from it).
    async with scripted_runtime(site_home, live_plant.endpoint, HeldModel(),
                                settings={"site": {"timezone": ZONE}}) as runtime:
        enroll_people(runtime, tmp_path, {"Avery Audit": (me, ["auditor"])})
        newest = runtime.audit.search(newest_first=True, limit=1)[0]
        backend = SiteServiceBackend(socket_path(site_home), role="auditor")
        async with running_service(runtime):
            app = PlantAgentApp(starter=site_service_starter(backend))
            async with app.run_test(size=(120, 32)) as pilot:
                await wait_for(lambda: app.started, pilot, what="the connection")
                await focus_settled(app, pilot)
                await pilot.press("f6")
                pane = app.screen.query_one(AuditPane)
                verify = pane.query_one("#verify-line", Label)
                await wait_for(lambda: pane.page is not None
                               and str(verify.render()).startswith("verify OK"), pilot,
                               what="the newest page and the verification")
                assert pane.page is not None
                seqs = [r.seq for r in pane.page.records]
                assert seqs[0] >= newest.seq and seqs == sorted(seqs, reverse=True)
                # The table shows the site's time, as it does in process (not UTC).
                first = pane.page.records[0]
                row = pane.query_one("#records", DataTable).get_row(str(first.seq))
                in_process = SiteTime.from_settings(runtime.settings)
                assert str(in_process.zone) == ZONE
                assert row[1] == in_process.show(first.ts) != SiteTime().show(first.ts)

                # A filter is applied by the service.
                kind = pane.query_one("#filter-kind", Input)
                kind.focus()
                await pilot.press(*newest.kind, "enter")
                await wait_for(lambda: pane.page is not None and pane.page.filters.kind
                               == newest.kind, pilot, what="the filtered page")
                assert pane.page.records
                assert {r.kind for r in pane.page.records} == {newest.kind}

                # A review note on the records on screen, signed here with her own key.
                before = runtime.audit.size()
                pane.query_one("#records").focus()
                await pilot.press("n")
                await wait_for(lambda: isinstance(app.screen, ReviewNoteScreen), pilot,
                               what="the note dialog")
                await pilot.press(*"read the filtered page", "enter")
                await wait_for(lambda: [r.seq for r in runtime.audit.search(
                    kind="review_note")] != [], pilot, what="the signed note recorded")
            await backend.close()
        note = runtime.audit.search(kind="review_note")[0]
        assert note.seq > before and note.actor == "Avery Audit" and note.role == "auditor"
        assert note.payload["note"] == "read the filtered page"
        signed = SignedStatement.model_validate(note.payload["signed"])
        assert signed.statement["person"] == person_key("Avery Audit")
        assert "nonce" in signed.statement
        check_signature(runtime.people.get(person_key("Avery Audit")), signed)
        assert runtime.audit.verify().ok
