"""`plantagent eval plants` in small: the checker against a live test plant, and a tiny
run through the real agent loop with a scripted model (the real model runs only in the
long evaluation command)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from agent.llm.scripted import ScriptedModel
from agent.pipeline.answer import AgentAnswer, StepRecord
from agent.settings import SimSettings
from harness.evals.plants.check import judge, kit_node
from harness.evals.plants.run import PlantsPlan, run_plants
from harness.evals.plants.suite import Suite, load_suite
from plant.kit.server import KitPlantServer
from plant.testplants import all_test_plants
from tools.opcua.models import Reading
from tools.opcua.toolset import Readings

pytestmark = pytest.mark.asyncio(loop_scope="module")
KEY = "P-2001.bearing_temperature"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def waterworks() -> AsyncIterator[KitPlantServer]:
    """The waterworks plant in real time with a little history."""
    sim = SimSettings(port=0, speed=1.0, history_hours=0.2, history_period_s=10.0)
    async with KitPlantServer(all_test_plants()["waterworks"], sim,
                              publish_interval_s=0.25) as server:
        await server.wait_ticks(2)
        yield server


def _answer(text: str, readings: list[dict[str, Any]]) -> AgentAnswer:
    result = Readings(readings=[
        Reading(quality="good", status="Good", stale=False, **r) for r in readings])
    step = StepRecord(evidence_id="E1", tool="read_tags", args={}, result=result, ok=True)
    return AgentAnswer(question="q", answer=text, outcome="answered", citations=["E1"],
                       steps=[step] if readings else [], grounded=True, model="scripted",
                       model_sha256="0" * 64)


def _judge(suite: Suite, server: KitPlantServer, answer: AgentAnswer) -> list[str]:
    question = next(q for q in suite.question if q.id == "ww-p1-bearing")
    now = datetime.now(UTC)
    # The agent may call the tag anything: its catalog maps its name to the node.
    nodes = {"whatever-the-agent-calls-it": kit_node(server.plant, KEY)}
    return judge(question, answer, suite=suite, server=server, tag_nodes=nodes,
                 t0=now - timedelta(seconds=1), t1=now)


async def test_the_right_value_with_its_unit_passes_and_others_fail(
    waterworks: KitPlantServer,
) -> None:
    suite = load_suite("waterworks")
    value = waterworks.published(KEY, datetime.now(UTC))[-1]
    reading = [{"tag": "whatever-the-agent-calls-it", "value": value}]
    assert _judge(suite, waterworks, _answer(f"Raw water pump 1: {value:.1f} °C.",
                                             reading)) == []
    wrong = _judge(suite, waterworks, _answer(f"It is {value + 5:.1f} °C.", reading))
    assert wrong == [f"live:{KEY} not stated" + wrong[0].split("not stated", 1)[1]]
    no_unit = _judge(suite, waterworks, _answer(f"It is {value:.1f}.", reading))
    assert no_unit == [f"unit °C of live:{KEY} not stated"]
    unread = _judge(suite, waterworks, _answer(f"It is {value:.1f} °C.", []))
    assert unread == [f"not read: {KEY}"]


async def test_a_tiny_run_through_the_real_loop_writes_the_tables(tmp_path: Path) -> None:
    model = ScriptedModel([{"action": "cannot_answer", "reason": "scripted",
                            "needed": "nothing"}] * 12)
    plan = PlantsPlan(plants=("waterworks",), questions=2, faults=1, model=model,
                      triage_timeout_s=4.0)
    [result] = await run_plants(plan, tmp_path)
    assert result.error is None
    assert [q.kind for q in result.questions] == ["single", "multi"]
    for q in result.questions:
        # Both ask only for values: the system answers them from its reads without a
        # model step (the product's plain readings), and the answers are judged.
        assert q.outcome == "answered" and q.right, q.problems
        assert q.model_steps == 0 and "did not finish" not in q.answer
    assert [f.fault for f in result.faults] == ["pump.bearing_wear"]
    data = json.loads((tmp_path / "plants.json").read_text(encoding="utf-8"))
    assert data["plants"][0]["questions"] == 2 and data["plants"][0]["faults"] == 1
    table = (tmp_path / "plants.md").read_text(encoding="utf-8")
    assert "| waterworks |" in table and "ww-p1-bearing" in table

