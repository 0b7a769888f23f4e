"""The reading commands (`twin assets|semantics|history|whatif`, `triage reports|show`,
`docs search|list`, `incidents search`) through the site service print what they print
in process for the same site (real service over a real Unix socket, a real encrypted
passphrase site with no site passphrase given to the client, the real demo plant, the
real embedding model)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from unittest.mock import patch

import pytest

from agent.cli import main
from agent.people.identity import os_account
from agent.serve.client import ServiceClient
from agent.serve.site_socket import socket_path
from agent.twin.documents.index import DocumentIndex
from agent.twin.incidents.memory import IncidentMemory
from agent.twin.incidents.records import IncidentRecord, SnapshotValue
from plant.server import DemoPlantServer
from tests.support.models import shared_model_dir
from tests.terminal_ui.review.review_snapshot_data import triage_report
from tools.context import utcnow

from .serve_helpers import SITE_PASSPHRASE, passphrase_site, running_service
from .twin_helpers import twin_with_history

pytestmark = pytest.mark.asyncio(loop_scope="module")

MANUAL = ("# Cooler HX-101\n\n## 4 Fouling\n\nA fouled cooler lets the hot outlet "
          "temperature rise; clean the tube bundle.\n")
#: Each command, run once through the service and once in process.
COMMANDS = [
    ["twin", "assets"], ["twin", "assets", "--all", "--json"],
    ["twin", "semantics"], ["twin", "semantics", "--unresolved", "--json"],
    ["twin", "history", "HX-101.HotOutletTemperature", "--since", "10m"],
    ["twin", "history", "HX-101.HotOutletTemperature", "--since", "10m", "--json"],
    ["twin", "whatif", "HX-101", "--set", "setpoint=33", "--hours", "1"],
    ["twin", "whatif", "HX-101", "--set", "setpoint=33", "--hours", "1", "--json"],
    ["triage", "reports"], ["triage", "reports", "--json"],
    ["triage", "show", "TR-0001"], ["triage", "show", "TR-0001", "--json"],
    ["docs", "search", "fouled cooler", "-k", "2"],
    ["docs", "search", "fouled cooler", "--json", "--mode", "fts"],
    ["docs", "list"], ["docs", "list", "--json"],
    ["incidents", "search", "cooler outlet too hot", "-k", "2"],
    ["incidents", "search", "--equipment", "Pumpe-3", "--json"],
    ["incidents", "search", "Lager laut", "--reading", "Pumpe-3.Schwingung=9.5", "--json"],
]
#: Past incidents of two differently named plants.
INCIDENTS = [
    IncidentRecord(id="WO-1", title="Cooler fouled", equipment=["HX-101"],
                   fault_mode="fouling", opened_at=datetime(2026, 3, 2, 22, 30, tzinfo=UTC),
                   downtime_h=6, symptoms="hot outlet temperature rising slowly",
                   cause="fouled tube bundle", fix="cleaned the bundle"),
    IncidentRecord(id="AU-7", title="Lagerschaden", equipment=["Pumpe-3"],
                   fault_mode="bearing", opened_at=datetime(2025, 11, 9, 6, 0, tzinfo=UTC),
                   downtime_h=12.5, symptoms="Lager laut, Schwingung hoch",
                   cause="Lager verschlissen", fix="Lager getauscht",
                   snapshot={"Pumpe-3.Schwingung": SnapshotValue(value=9.1, unit="mm/s",
                                                                  low=0.5, high=4.5)}),
    IncidentRecord(id="WO-2", title="Seal leak", equipment=["P-101"], fault_mode="leak",
                   opened_at=datetime(2026, 1, 15, 8, 0, tzinfo=UTC), downtime_h=2,
                   symptoms="drips under the pump", cause="worn seal", fix="new seal"),
]
#: Refused both ways alike, with the same exit code and error (the fix included).
REFUSED = {
    ("twin", "whatif", "HX-101", "--set", "setpoint=90"): 1,  # the engine's range
    ("twin", "whatif", "HX-999", "--set", "setpoint=30"): 1,  # no such equipment
    ("triage", "show", "TR-nowhere"): 2,
    ("docs", "search", " "): 2,
    ("incidents", "search"): 2,  # nothing to compare with
}


async def test_reading_commands_through_the_service_print_what_they_print_in_process(
    live_plant: DemoPlantServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    models = str(shared_model_dir())
    monkeypatch.setenv("PLANTAGENT_MODEL__DIRECTORY", models)
    async with passphrase_site(live_plant.endpoint, tmp_path, monkeypatch,
                               {"Rita Lead": (os_account(), ["shift_lead", "auditor"])},
                               key_file_env=False,
                               settings={"model": {"directory": models}}) as site:
        home, runtime = site.home, site.runtime
        await twin_with_history(runtime)
        report = triage_report().model_copy(update={"id": "TR-0001"})
        runtime.reports.save(report)
        (tmp_path / "hx_manual.md").write_text(MANUAL, encoding="utf-8")
        DocumentIndex(runtime.twin_database, runtime.load_embedder()).add_paths(
            [tmp_path / "hx_manual.md"])
        IncidentMemory(runtime.twin_database, runtime.load_embedder()).load(INCIDENTS)
        now = utcnow()

        async def run(*args: str) -> tuple[int, str, list[str]]:
            with patch("agent.cli.twin_cmd.utcnow", return_value=now):
                code = await asyncio.to_thread(main, ["--home", str(home), *args])
            out, err = capsys.readouterr()
            # stderr also holds the in-process command's notes; the error is compared.
            return code, out, [line for line in err.splitlines()
                               if line.startswith(("error:", "  fix:"))]

        commands = [*COMMANDS, *(list(c) for c in REFUSED)]
        async with running_service(runtime):
            served = [await run(*command) for command in commands]
            # A value the protocol does not carry is a usage error naming the way out.
            code, _, refused = await run("triage", "reports", "--limit", "501")
            assert code == 2 and "--no-service" in refused[-1]
            # Any enrolled person may read, in any of their roles, as in process.
            async with ServiceClient(socket_path(home), role="auditor") as auditor:
                assert len(await auditor.twin("assets")) == len(
                    runtime.twin.assets.equipment())
        monkeypatch.setenv("PLANTAGENT_PASSPHRASE", SITE_PASSPHRASE)
        local = [await run(*command, "--no-service") for command in commands]
    for command, through, here in zip(commands, served, local, strict=True):
        assert through == here, command
        assert through[0] == REFUSED.get(tuple(command), 0), (command, through[2])
        assert bool(through[2]) == (tuple(command) in REFUSED), command
    outputs = dict(zip((" ".join(c) for c in COMMANDS), (o for _, o, _ in served),
                       strict=False))
    assert "not extrapolating" in served[len(COMMANDS)][2][0]
    assert "HX-101" in outputs["twin assets"]
    assert json.loads(outputs["twin history HX-101.HotOutletTemperature --since 10m --json"]
                      )["count"] > 3
    assert json.loads(outputs["twin whatif HX-101 --set setpoint=33 --hours 1 --json"]
                      )["eq_class"] == "heat_exchanger"
    assert "TR-0001" in outputs["triage reports"]
    assert "hx_manual.md" in outputs["docs search fouled cooler -k 2"]
    assert "hx_manual.md" in outputs["docs list"]
    assert "WO-1  2026-03-02  HX-101" in outputs["incidents search cooler outlet too hot -k 2"]
    assert [m["id"] for m in json.loads(outputs["incidents search --equipment Pumpe-3 --json"])
            ] == ["AU-7"]
    assert json.loads(outputs["incidents search Lager laut --reading Pumpe-3.Schwingung=9.5 "
                              "--json"])[0]["snapshot_similarity"] is not None
