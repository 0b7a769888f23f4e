"""`plantagent alarms report` through the site service writes the very files the
in-process command writes for the same journal and window (real service over a real Unix
socket, real encrypted site with no site passphrase given to the client, the real demo
plant)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch

import pytest

from agent.cli import main
from agent.people.identity import os_account
from plant.server import DemoPlantServer
from tools.context import utcnow

from .serve_helpers import SITE_PASSPHRASE, passphrase_site, running_service

pytestmark = pytest.mark.asyncio(loop_scope="module")

ALARM = "HX-101.CoolantFlow.Low"


async def test_report_through_the_service_equals_the_in_process_files(
    live_plant: DemoPlantServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    # The journal is written here, not by a recorder that extends it while the test
    # runs: both commands must read the same journal.
    async with passphrase_site(live_plant.endpoint, tmp_path, monkeypatch,
                               {"Rita Lead": (os_account(), ["shift_lead"])},
                               key_file_env=False,
                               settings={"alarms": {"journal": False}}) as site:
        home, runtime = site.home, site.runtime
        await live_plant.force_alarm(ALARM, active=True)
        await live_plant.force_alarm(ALARM, active=False)
        now = utcnow() + timedelta(seconds=1)
        store = runtime.alarm_store
        segment = store.open_segment(now - timedelta(hours=2), live_plant.endpoint)
        store.extend_segment(segment, now - timedelta(seconds=30))
        cli = ["--home", str(home), "alarms", "report", "--since", "8h"]

        async def run(*args: str) -> tuple[int, str, str]:
            with patch("agent.cli.alarms_cmd.utcnow", return_value=now):
                code = await asyncio.to_thread(main, [*cli, *args])
            out, err = capsys.readouterr()
            return code, out, err

        async with running_service(runtime):
            code, served_md, err = await run("--out", str(tmp_path / "served"))
            assert code == 0, err
            code, served_json, err = await run("--json")
            assert code == 0, err
        monkeypatch.setenv("PLANTAGENT_PASSPHRASE", SITE_PASSPHRASE)
        code, local_md, err = await run("--no-service", "--endpoint", live_plant.endpoint,
                                        "--out", str(tmp_path / "local"))
        assert code == 0, err
    report = json.loads(served_json)
    assert 1.9 < report["covered_hours"] < 2.0  # the journal's span, read by the service
    assert report["activations"] >= 1  # the forced alarm, from the plant's event history
    assert served_md == local_md and "Alarm" in served_md
    served = sorted(p.name for p in (tmp_path / "served").iterdir())
    assert served == sorted(p.name for p in (tmp_path / "local").iterdir())
    assert {"report.md", "report.json", "alarm_rate.png"} <= set(served)
    for name in served:
        assert (tmp_path / "served" / name).read_bytes() == \
            (tmp_path / "local" / name).read_bytes(), name
