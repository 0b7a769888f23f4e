"""`plantagent audit review` through the site service: the service prepares the note's
statement with a nonce, the auditor's own client signs it with their own key, the
service checks it and records it. Auditors only; a bad range is refused before anyone
signs. Real service over a real Unix socket, real encrypted site (no site passphrase given
to the client), the real demo plant."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from agent.cli import main
from agent.people.identity import os_account
from agent.people.names import person_key
from agent.people.statements import SignedStatement, check_signature
from plant.server import DemoPlantServer

from .serve_helpers import passphrase_site, running_service

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_an_auditor_signs_a_review_note_through_the_service(
    live_plant: DemoPlantServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    async with passphrase_site(live_plant.endpoint, tmp_path, monkeypatch,
                               {"Avery Audit": (os_account(), ["auditor", "shift_lead"])}
                               ) as site:
        home, runtime = site.home, site.runtime
        audit = runtime.audit

        def notes() -> list[int]:
            return [r.seq for r in audit.search(kind="review_note")]

        async def review(*args: str) -> tuple[int, str, str]:
            code = await asyncio.to_thread(main, ["--home", str(home), "audit", "review",
                                                  *args])
            out, err = capsys.readouterr()
            return code, out, err

        async with running_service(runtime):
            size = audit.size()
            # A shift lead's connection may not sign review notes; nothing is recorded.
            code, out, err = await review("--range", f"1-{size}", "--verdict", "reviewed",
                                          "--note", "looked", "--role", "shift_lead")
            assert code == 1 and "may not sign audit review notes" in err, err
            assert "--role auditor" in err and notes() == []
            # A range past the log is refused before anyone is asked to sign: a usage
            # error, exit code 2 as in process.
            code, out, err = await review("--range", f"1-{size + 500}", "--verdict",
                                          "reviewed", "--note", "looked", "--role", "auditor")
            assert code == 2 and "not in the log" in err and notes() == [], err
            # The auditor's own note, signed by their own key in this client.
            code, out, err = await review("--range", f"2-{size}", "--verdict", "reviewed",
                                          "--note", "checked the start", "--role", "auditor",
                                          "--json")
            assert code == 0, err
            record = json.loads(out)
        assert notes() == [record["seq"]]
        note = next(r for r in audit.search(kind="review_note") if r.seq == record["seq"])
        assert note.actor == "Avery Audit" and note.role == "auditor"
        assert (note.payload["first"], note.payload["last"]) == (2, size)
        signed = SignedStatement.model_validate(note.payload["signed"])
        statement = signed.statement
        assert statement["person"] == person_key("Avery Audit") and "nonce" in statement
        assert (statement["first"], statement["last"], statement["note"]) == (
            2, size, "checked the start")
        check_signature(runtime.people.get(person_key("Avery Audit")), signed)
        assert audit.verify().ok
