"""`plantagent twin sync|assets|record|history|whatif` against the running demo plant."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from agent.cli import main
from plant.server import DemoPlantServer
from tests.support.sites import PASSPHRASE

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    # In a thread: the CLI runs its own event loop while the plant's keeps serving.
    code = await asyncio.to_thread(main, list(args))
    out, err = capsys.readouterr()
    return code, out, err


async def test_twin_commands_end_to_end(
    demo_plant: DemoPlantServer,
    home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PLANTAGENT_PASSPHRASE", PASSPHRASE)
    h = ["--home", str(home)]
    code, out, _ = await _run(
        capsys, *h, "twin", "sync", "--endpoint", demo_plant.endpoint, "--json"
    )
    assert code == 0 and json.loads(out)["active_tags"] == 47

    code, out, _ = await _run(capsys, *h, "twin", "assets", "--json")
    assert code == 0 and len(json.loads(out)) == 7

    code, out, _ = await _run(capsys, *h, "twin", "semantics")
    assert code == 0 and "P-101  [pump" in out and "bearing temperature" in out
    assert "every tag resolved" in out
    code, out, _ = await _run(capsys, *h, "twin", "semantics", "--json")
    listed = json.loads(out)
    assert code == 0 and listed["unresolved"] == [] and len(listed["tags"]) == 47

    code, _, err = await _run(
        capsys,
        *h,
        "twin",
        "record",
        "--endpoint",
        demo_plant.endpoint,
        "--duration",
        "3",
        "--period-ms",
        "250",
    )
    assert code == 0 and "received" in err and "lag" in err
    last = err.strip().splitlines()[-1]
    received = int(last.split("received")[1].split()[0])
    stored = int(last.split("stored")[1].split()[0])
    assert received > 47 and stored == received

    code, out, err = await _run(
        capsys, *h, "twin", "history", "P-101.FlowRate", "--since", "5m", "--json"
    )
    assert code == 0, err
    summary = json.loads(out)
    assert code == 0 and summary["count"] > 3 and summary["high"] == 35.0

    code, out, _ = await _run(capsys, *h, "twin", "history", "P-101.FlowRate", "--since", "5m")
    assert code == 0 and "min" in out and "trend" in out

    code, out, err = await _run(
        capsys, *h, "twin", "whatif", "HX-101", "--set", "setpoint=33", "--hours", "1", "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    assert code == 0 and result["eq_class"] == "heat_exchanger"
    outlet = next(p for p in result["predictions"] if p["tag"] == "HX-101.HotOutletTemperature")
    assert outlet["end"] == pytest.approx(33.0, abs=0.3)

    code, _, err = await _run(capsys, *h, "twin", "whatif", "HX-101", "--set", "setpoint=90")
    assert code == 1 and "not extrapolating" in err and "fix:" in err

    (home / "assets.toml").write_text('[equipment.P-101]\nclas = "pump"\n', encoding="utf-8")
    code, _, err = await _run(capsys, *h, "twin", "sync", "--endpoint", demo_plant.endpoint)
    assert code == 2 and "equipment.P-101.clas" in err and "'class'" in err
