"""`plantagent alarms ...` through the site service, against the real service, the real
encrypted site (no site passphrase given) and the real demo plant: list, acknowledge and
ask to shelve as the caller's own enrolled person; a shelve request approved with the
caller's own signature and run; the requester cannot approve their own request."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from unittest.mock import patch

import pytest

from agent.approvals.authority import DECISION_TYPE
from agent.cli import main
from agent.people.identity import os_account
from agent.people.names import person_key
from agent.people.statements import SignedStatement
from plant.server import DemoPlantServer

from .serve_helpers import passphrase_site, running_service

pytestmark = pytest.mark.asyncio(loop_scope="module")

ALARM = "HX-101.CoolantFlow.Low"


async def test_alarms_through_the_service_as_the_callers_own_person(
    live_plant: DemoPlantServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    async with passphrase_site(live_plant.endpoint, tmp_path, monkeypatch,
                               {"Rita Eng": (os_account(), ["shift_lead", "engineer"])}
                               ) as site:
        home, runtime = site.home, site.runtime
        await live_plant.force_alarm(ALARM, active=True)
        cli = ["--home", str(home), "alarms"]

        async def run(*args: str) -> tuple[int, str, str]:
            code = await asyncio.to_thread(main, [*cli, *args])
            out, err = capsys.readouterr()
            return code, out, err

        try:
            async with running_service(runtime):
                code, out, err = await run("list", "--json")
                assert code == 0, err
                row = next(r for r in json.loads(out) if r["name"] == ALARM)
                assert row["status"] == "unacknowledged"
                code, out, err = await run("ack", ALARM, "--comment", "fitter called")
                assert code == 0, err
                assert f"{ALARM} acknowledged" in out and "acknowledged=True" in out
                # Her own shelve request: hers to withdraw, never to approve.
                code, out, err = await run("shelve", ALARM, "--for", "5m", "--reason",
                                           "fitter on the valve", "--json")
                assert code == 0, err
                own = json.loads(out)
                assert own["state"] == "pending" and own["requested_by"] == "Rita Eng"
                code, out, err = await run("approve", own["id"], "--role", "engineer")
                assert code == 1 and "two-person rule" in err and "Traceback" not in err
                code, out, err = await run("deny", own["id"], "--note", "not needed",
                                           "--json")
                assert code == 0 and json.loads(out)["state"] == "denied", err
                # Sam's request (from his own account): Rita approves it, signed by her.
                desk = await runtime.alarm_desk()
                with patch("agent.alarms.shelving.os_account", return_value="sam-os"):
                    sams = await desk.shelve(actor="Sam Lead", role="shift_lead",
                                             condition=ALARM, minutes=5.0, reason="valve")
                code, out, err = await run("requests", "--json")
                assert code == 0 and [r["id"] for r in json.loads(out)] == [sams.id], err
                code, out, err = await run("approve", sams.id, "--role", "engineer")
                assert code == 0 and "(executed)" in out, err
                assert live_plant.conditions[ALARM].shelving == "TimedShelved"
        finally:
            await live_plant.force_alarm(ALARM, active=False)
        acked = [r for r in runtime.audit.search(text=ALARM)
                 if r.actor == "Rita Eng" and "acknowledge" in json.dumps(r.payload)]
        assert acked, "the acknowledgement is recorded as Rita's"
        decided = [SignedStatement.model_validate(r.payload["signed"]).statement
                   for r in runtime.audit.search(text=sams.id)
                   if r.payload.get("event") in ("approved", "executing")]
        assert [s["verb"] for s in decided] == ["approve", "execute"]
        assert all(s["type"] == DECISION_TYPE and "nonce" in s
                   and s["person"] == person_key("Rita Eng") for s in decided)
