"""The tool registration the agent sees (reads only: no tool writes), and the CLI."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from agent.cli import main
from agent.cli.numbers import readable
from agent.errors import ToolError
from agent.settings import Settings
from tools.context import ToolContext
from tools.opcua import register
from tools.opcua.toolset import ListEquipmentArgs, list_equipment
from tools.registry import ENUM_SOURCE_KEY, ToolRegistry

from .uatestserver import PlantHandle

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_register_adds_typed_documented_tools() -> None:
    registry = ToolRegistry()
    register(registry)
    assert registry.names() == [
        "list_equipment",
        "describe_equipment",
        "read_tags",
        "read_equipment",
        "tag_history",
        "active_alarms",
        "recent_events",
    ]
    read = registry.get("read_tags")
    schema = read.args_model.model_json_schema()
    assert schema["properties"]["tags"]["items"][ENUM_SOURCE_KEY] == "tag"
    assert "one request" in read.description
    history = registry.get("tag_history").args_model.model_json_schema()
    assert history["properties"]["tag"][ENUM_SOURCE_KEY] == "tag"
    assert history["properties"]["aggregate"]["enum"] == ["summary", "raw"]
    # The decoy write tool is gone: a change is made only from a person's own request,
    # through the policy decision and one proposal route (agent/pipeline/changes.py).
    assert not any(s.writes_to_plant or s.requires_approval for s in registry)


async def test_tools_without_a_plant_connection_say_so(settings: Settings) -> None:
    with pytest.raises(ToolError) as err:
        await list_equipment(ToolContext(settings=settings), ListEquipmentArgs())
    assert "no plant connection" in err.value.message


async def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    # The CLI runs its own event loop; the test server keeps serving on this one.
    code = await asyncio.to_thread(main, args)
    out, err = capsys.readouterr()
    return code, out, err


async def test_cli_browse_read_history_alarms(
    plant: PlantHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--home", str(tmp_path), "opcua"]
    ep = ["--endpoint", plant.endpoint]
    code, out, _ = await cli([*base, "browse", *ep, "--json"], capsys)
    assert code == 0
    names = [e["name"] for e in json.loads(out)["equipment"]]
    assert names == ["PU-1", "TK-7"]

    code, out, _ = await cli([*base, "read", "PU-1.FlowRate", "TK-7.Level", *ep, "--json"], capsys)
    readings = json.loads(out)["readings"]
    assert code == 0 and [(r["tag"], r["quality"]) for r in readings] == [
        ("PU-1.FlowRate", "good"),
        ("TK-7.Level", "good"),
    ]
    code, out, _ = await cli([*base, "read", "PU-1.FlowRate", *ep], capsys)
    assert code == 0 and "PU-1.FlowRate" in out and "m³/h" in out
    # Readable: the value at four significant digits, the status once ("Good", not
    # "Good good").
    value = readings[0]["value"]
    assert readable(value) in out.split() and "Good" in out and "good" not in out.split()

    code, out, _ = await cli([*base, "history", "PU-1.FlowRate", "--since", "15m", *ep], capsys)
    assert code == 0 and "min" in out and "mean" in out

    code, out, _ = await cli([*base, "alarms", *ep, "--json"], capsys)
    assert code == 0 and json.loads(out) == {"alarms": []}

    code, _, err = await cli([*base, "read", "PU-1.Flowrate", *ep], capsys)
    assert code == 1 and "no tag named 'PU-1.Flowrate'" in err and "'PU-1.FlowRate'" in err

    code, _, err = await cli([*base, "history", "PU-1.FlowRate", "--since", "3650d", *ep], capsys)
    assert code == 1 and "allowed" in err

    code, _, err = await cli([*base, "browse", "--endpoint", "localhost:4840"], capsys)
    assert code == 2 and "opc.tcp://" in err
