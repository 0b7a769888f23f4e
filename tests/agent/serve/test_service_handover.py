"""`plantagent handover`, `handover ack` and `handover acks` through the site service,
against the real service, the real encrypted site (no site passphrase given) and the real
demo plant: the handover is recorded as the caller's, an acknowledgement is signed by the
caller's own client and verifies like one made in process, and the author cannot
acknowledge their own handover."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from agent.cli import main
from agent.handover import build_handover
from agent.handover.ack import acknowledgements, find_handover
from agent.handover.unloaded import UnloadedModel
from agent.people.identity import os_account
from agent.people.names import person_key
from plant.server import DemoPlantServer
from tests.support.runtimes import SHIFT_LEAD

from .serve_helpers import passphrase_site, running_service

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_handover_through_the_service_as_the_callers_own_person(
    live_plant: DemoPlantServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    async with passphrase_site(live_plant.endpoint, tmp_path, monkeypatch,
                               {"Rita Lead": (os_account(), ["shift_lead"])}) as site:
        home, runtime = site.home, site.runtime
        # The outgoing shift's handover, written in the service's process by its lead.
        sources = await runtime.shift_sources(UnloadedModel("test"))
        await build_handover(sources, use_model=False)
        outgoing = find_handover(runtime.audit)
        assert outgoing.actor == SHIFT_LEAD

        async def run(*args: str) -> tuple[int, str, str]:
            code = await asyncio.to_thread(main, ["--home", str(home), "handover", *args])
            out, err = capsys.readouterr()
            return code, out, err

        async with running_service(runtime):
            code, out, err = await run("ack", "--note", "took over at the board")
            assert code == 0, err
            assert f"Rita Lead (shift_lead) acknowledged handover {outgoing.seq}" in out
            code, out, err = await run("acks", "--json")
            assert code == 0, err
            acks = json.loads(out)
            assert acks["handover"] == outgoing.seq
            # The signer's key (as the audit names them) and their enrolled name.
            assert [(a["person"], a["name"]) for a in acks["acknowledgements"]] == [
                (person_key("Rita Lead"), "Rita Lead")]
            code, out, err = await run("acks")
            assert code == 0 and "acknowledged by Rita Lead (shift_lead)" in out, err
            # Twice is refused, with the reason.
            code, out, err = await run("ack")
            assert code == 1 and "already acknowledged" in err
            # Her own handover (the template's): recorded as hers, not hers to acknowledge.
            code, out, err = await run("--no-model", "--since", "1h", "--json")
            assert code == 0, err
            assert json.loads(out)["lines"]
            code, out, err = await run("ack")
            assert code == 1 and "Rita Lead wrote handover" in err and "Traceback" not in err
        assert find_handover(runtime.audit).actor == "Rita Lead"
        verified = acknowledgements(runtime.audit, runtime.people, outgoing)
        assert [(a.person, a.role, a.note) for a in verified] == [
            (person_key("Rita Lead"), "shift_lead", "took over at the board")]
