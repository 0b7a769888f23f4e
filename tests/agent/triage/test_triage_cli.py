"""`plantagent triage run / reports / show` against a real demo plant and site."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from agent.cli import main

from .triage_testing import faulted_plant


async def test_triage_cli_run_reports_show(
    site_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--home", str(site_home), "triage"]
    async with faulted_plant([("conveyor_jam", "CV-101", 60.0)]) as plant:
        code = await asyncio.to_thread(
            main, [*base, "run", "--endpoint", plant.endpoint, "--no-model", "--json"])
        ran = json.loads(capsys.readouterr().out)
        again = await asyncio.to_thread(
            main, [*base, "run", "--endpoint", plant.endpoint, "--no-model", "--json"])
        second = json.loads(capsys.readouterr().out)
    assert code == 0 and again == 0
    assert [r["candidates"][0]["cause"] for r in ran["reports"]] == ["conveyor_jam"]
    assert second["reports"] == [] and second["skipped"] >= 1
    assert main([*base, "reports", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["top_cause"] for r in listed] == ["conveyor_jam"]
    assert main([*base, "show", listed[0]["id"]]) == 0
    assert "## Evidence" in capsys.readouterr().out
    assert main([*base, "show", "TR-nope"]) == 2
    assert "plantagent triage reports" in capsys.readouterr().err
