"""The read-only reads the terminal UI's Alarms tab makes through the site service, against
the real service, the real encrypted site and the real demo plant: the triage reports
(newest first, one with its Markdown, an unknown one refused with its fix) and the alarm
actions the caller's role may take, as the service's policy says for that role; the
audit log read by an auditor and refused to a shift lead."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import ServiceError, UsageError
from agent.people.identity import os_account
from agent.serve.client import ServiceClient
from agent.serve.site_socket import socket_path
from agent.triage.models import TriageReport
from plant.server import DemoPlantServer
from tests.support.runtimes import scripted_runtime
from tests.support.sites import new_site
from tests.terminal_ui.review.review_snapshot_data import triage_report

from .serve_helpers import HeldModel, enroll_people, running_service

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_triage_reports_and_alarm_actions_through_the_service(
    live_plant: DemoPlantServer, tmp_path: Path
) -> None:
    me = os_account()
    home = new_site(tmp_path / "site")
    async with scripted_runtime(home, live_plant.endpoint, HeldModel()) as runtime:
        enroll_people(runtime, tmp_path, {"Rita Lead": (me, ["shift_lead", "auditor"])})
        older = triage_report()
        newer = older.model_copy(update={"id": "TR-newer",
                                         "created": older.created.replace(
                                             year=older.created.year + 1)})
        runtime.reports.save(older)
        runtime.reports.save(newer)
        path = socket_path(home)
        async with running_service(runtime):
            async with ServiceClient(path, role="shift_lead") as lead:
                listed = await lead.triage(limit=10)
                assert [TriageReport.model_validate(r).id for r in listed.reports] == [
                    "TR-newer", older.id]
                assert listed.markdown is None
                one = await lead.triage(report=older.id)
                assert [r["id"] for r in one.reports] == [older.id]
                assert one.markdown is not None and older.id in one.markdown
                assert "cooling_loss" in one.markdown
                with pytest.raises(UsageError) as refused:  # as in process
                    await lead.triage(report="TR-nowhere")
                assert "TR-nowhere" in refused.value.message
                assert refused.value.fix and "triage reports" in refused.value.fix
                with pytest.raises(ServiceError) as no_audit:
                    await lead.audit()
                assert "may not read the audit log" in no_audit.value.message
                assert no_audit.value.fix and "--role auditor" in no_audit.value.fix
                board = await lead.alarms_view("board")
                assert set(board.actions) == {"acknowledge", "confirm", "comment", "shelve",
                                              "unshelve"}
            async with ServiceClient(path, role="auditor") as auditor:
                board = await auditor.alarms_view("board")
                assert board.actions == []  # an auditor reads; the policy offers no act
                assert len((await auditor.triage()).reports) == 2
                page = await auditor.audit(size=3)
                assert len(page.records) == 3 and page.has_older and not page.has_newer
                checked = await auditor.audit(verify=True)
                assert checked.verify is not None and checked.verify["ok"] is True
