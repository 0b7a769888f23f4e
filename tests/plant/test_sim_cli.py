"""`plantagent sim ...` commands against a real running demo plant."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from agent.cli import main
from plant.faults import fault_registry
from plant.server import DemoPlantServer

#: Async tests share the package event loop with the package-scoped demo plant.
in_package_loop = pytest.mark.asyncio(loop_scope="package")


def free_closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run_cli(*argv: str) -> int:
    # The command runs its own event loop (asyncio.run), so it gets a thread.
    return await asyncio.to_thread(main, list(argv))


def test_sim_faults_json_parses(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "faults", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {f["name"] for f in data} == set(fault_registry())
    for f in data:
        assert f["equipment_classes"] and f["equipment"] and f["description"]
        assert f["onset_s"] >= 0


def test_sim_faults_text_lists_every_fault(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "faults"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in fault_registry())


@in_package_loop
async def test_inject_and_clear_through_the_cli(
    demo_plant: DemoPlantServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = demo_plant.endpoint
    assert (
        await run_cli("sim", "fault", "inject", "filter_clogging", "F-101", "--endpoint", url) == 0
    )
    assert "filter_clogging" in capsys.readouterr().out
    assert [f.fault for f in demo_plant.model.active_faults()] == ["filter_clogging"]
    assert await run_cli("sim", "fault", "clear", "F-101", "--endpoint", url) == 0
    assert "cleared 1 fault" in capsys.readouterr().out
    assert demo_plant.model.active_faults() == []


@in_package_loop
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("inject", "bearing_waer", "P-101"), "did you mean bearing_wear"),
        (("inject", "bearing_wear", "P-110"), "did you mean P-101"),
        (("inject", "bearing_wear", "HX-101"), "does not apply to HX-101"),
        (("clear", "PP-101"), "did you mean P-101"),
    ],
)
async def test_bad_names_get_a_clear_error(
    demo_plant: DemoPlantServer,
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
    expected: str,
) -> None:
    code = await run_cli("sim", "fault", *argv, "--endpoint", demo_plant.endpoint)
    err = capsys.readouterr().err
    assert code == 2 and expected in err and "fix:" in err
    assert demo_plant.model.active_faults() == []


@in_package_loop
async def test_unreachable_plant_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"opc.tcp://127.0.0.1:{free_closed_port()}/plantagent/"
    code = await run_cli("sim", "fault", "clear", "*", "--endpoint", url, "--timeout", "2")
    err = capsys.readouterr().err
    assert code == 1 and "cannot reach the demo plant" in err and "plantagent sim" in err
