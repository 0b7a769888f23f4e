"""The auditors' reading commands (`audit search|show`) through the site service print
what they print in process for the same site, in one of the policy's audit reviewer roles
(the rule of the terminal UI's Audit tab), without the site passphrase (real service over
a real Unix socket, a real encrypted passphrase site, the real demo plant)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest

from agent.cli import main
from agent.people.identity import os_account
from plant.server import DemoPlantServer

from .serve_helpers import SITE_PASSPHRASE, passphrase_site, running_service

pytestmark = pytest.mark.asyncio(loop_scope="module")

#: Records of two differently named plants, so the filters have something to tell apart.
RECORDS: list[tuple[str, str, dict[str, Any], str | None, str]] = [
    ("tool_call", "Rita Lead", {"value": 1}, "read_tag", "HX-101"),
    ("tool_call", "Rita Lead", {"value": 2}, "trend", "P-101"),
    ("answer", "Ola Night", {"text": "Kühler HX-101 fouled"}, None, "HX-101"),
    ("tool_call", "Ola Night", {"value": 3}, "read_tag", "Reaktor-7"),
    ("answer", "Rita Lead", {"text": "pump P-101 fine"}, None, "P-101"),
]


async def test_audit_search_and_show_through_the_service_print_what_they_print_in_process(
    live_plant: DemoPlantServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    async with passphrase_site(live_plant.endpoint, tmp_path, monkeypatch,
                               {"Rita Lead": (os_account(), ["shift_lead", "auditor"])},
                               key_file_env=False) as site:
        home, runtime = site.home, site.runtime
        for kind, actor, payload, tool, equipment in RECORDS:
            runtime.audit.append(kind, actor, payload, tool=tool, equipment=equipment)
        # Both ways read the records up to here: what either way appends later is not
        # in the compared output.
        until = datetime.now(UTC).isoformat()
        size = runtime.audit.size()
        commands = [
            ["audit", "search", "--until", until],
            ["audit", "search", "--until", until, "--json"],
            ["audit", "search", "--until", until, "--kind", "tool_call", "--limit", "2"],
            ["audit", "search", "--until", until, "--tool", "read_tag", "--equipment",
             "Reaktor-7"],
            ["audit", "search", "--until", until, "--text", "kühler", "--actor", "Ola Night"],
            ["audit", "search", "--until", until, "--kind", "answer", "--json"],
            ["audit", "search", "--until", until, "--actor", "Nobody"],  # "no records"
        ]
        refused: dict[tuple[str, ...], int] = {("audit", "show", "--last", "0"): 2,
                                               ("audit", "search", "--since", "yesterday-ish"): 2}

        async def run(*args: str) -> tuple[int, str, list[str]]:
            # Pages of 3 records, so the service's answer comes in several replies.
            with patch("agent.cli.audit_cmd.SERVICE_PAGE", 3):
                code = await asyncio.to_thread(main, ["--home", str(home), *args])
            out, err = capsys.readouterr()
            return code, out, [line for line in err.splitlines()
                               if line.startswith(("error:", "  fix:", "no records"))]

        every = [*commands, *(list(c) for c in refused)]
        async with running_service(runtime):
            served = [await run(*c, "--role", "auditor") for c in every]
            shown = await run("audit", "show", "--last", "4", "--json", "--role", "auditor")
            expected = [r.model_dump(mode="json") for r in runtime.audit.last(4)]
            # A role outside the policy's reviewer roles is refused, with the fix.
            denied = await run("audit", "show", "--role", "shift_lead")
        monkeypatch.setenv("PLANTAGENT_PASSPHRASE", SITE_PASSPHRASE)
        local = [await run(*c, "--role", "auditor", "--no-service") for c in every]
    for command, through, here in zip(every, served, local, strict=True):
        assert through == here, command
        assert through[0] == refused.get(tuple(command), 0), (command, through[2])
    outputs = [out for _, out, _ in served]
    assert len(json.loads(outputs[1])) == size > len(RECORDS)  # more than one page
    assert ["read_tag" in line for line in outputs[2].splitlines()] == [True, False]
    assert "Reaktor-7" in outputs[3] and len(outputs[3].splitlines()) == 1
    assert "fouled" in outputs[4] and len(outputs[4].splitlines()) == 1
    assert [r["payload"]["text"] for r in json.loads(outputs[5])] == [
        "Kühler HX-101 fouled", "pump P-101 fine"]
    assert served[6][2] == ["no records"]
    assert shown[0] == 0 and json.loads(shown[1]) == expected
    assert denied[0] != 0 and "--role auditor" in denied[2][-1], denied
