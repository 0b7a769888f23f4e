"""Measuring one question: the ask suite's checks on real answers of the real loop (a
scripted model, the demo plant, a real site), and the model's steps read back from the
audit log."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from agent.errors import ModelOutputError
from agent.llm.scripted import ScriptedModel
from agent.runtime import SiteRuntime
from agent.settings import load_settings
from harness.evals import ask_suite
from harness.qualify.ask_measure import measure, step_counts
from plant.server import DemoPlantServer
from tests.support.sites import PASSPHRASE
from tools.context import utcnow
from tools.opcua.read import read_tag_infos

pytestmark = pytest.mark.asyncio(loop_scope="module")


@asynccontextmanager
async def scripted(home: Path, plant: DemoPlantServer, model: ScriptedModel
                   ) -> AsyncIterator[SiteRuntime]:  # fmt: skip
    # As qualification runs it: every question goes to the model.
    settings = load_settings(home=home, agent={"user": "qual", "role": "shift_lead",
                                               "plain_readings": False})
    async with SiteRuntime(settings, endpoint=plant.endpoint, model=model,
                           passphrase=PASSPHRASE) as runtime:
        await runtime.agent()  # built before the test reads the plant, as `ask` does
        yield runtime


def _answer(text: str, *cited: str) -> dict[str, Any]:
    return {"action": "final_answer", "answer": text, "citations": list(cited)}


async def _ask(runtime: SiteRuntime, case: ask_suite.AskCase) -> Any:
    agent = await runtime.agent()
    seq0 = runtime.audit.size()
    answer = await agent.ask(case.question, actor="qual", role="shift_lead")
    return answer, runtime.audit.search(seq_from=seq0 + 1)


async def test_steps_are_counted_and_a_wrong_value_fails(
    qualify_home: Path, qualify_plant: DemoPlantServer
) -> None:
    case = ask_suite.case("p101-bearing")
    model = ScriptedModel([
        ModelOutputError("cut off", text='{"action": "final_'),
        {"action": "call_tool", "tool": "read_tags",
         "args": {"tags": ["P-101.BearingTemperature"]}},
        _answer("The bearing temperature of P-101 is 999.0 °C.", "E1"),
        # The ungrounded draft goes back once; the redraft repeats it.
        _answer("The bearing temperature of P-101 is 999.0 °C.", "E1"),
    ])
    async with scripted(qualify_home, qualify_plant, model) as runtime:
        answer, records = await _ask(runtime, case)
    assert step_counts(records) == (3, 4, ["read_tags"])
    outcome = measure(case, answer, records, 1.5)
    assert (outcome.valid_steps, outcome.model_steps) == (3, 4)
    assert outcome.tool_ok is True  # prefetch read P-101 for the question
    assert not outcome.passed and not outcome.grounded
    # The person gets the true reading from the system; the model is not credited.
    assert "the model's draft could not be grounded; the system wrote it" in outcome.problems
    assert "999" not in answer.answer and answer.written_by == "system"


async def test_the_live_value_passes(
    qualify_home: Path, qualify_plant: DemoPlantServer
) -> None:
    case = ask_suite.case("p101-bearing")
    model = ScriptedModel()
    async with scripted(qualify_home, qualify_plant, model) as runtime:
        info = (await runtime.catalog()).tags["P-101.BearingTemperature"]
        [now] = await read_tag_infos(await runtime.connection(), [info], clock=utcnow,
                                     stale_after_s=60)
        assert isinstance(now.value, float)
        # Within the check's 5 %: the plant moves a little between this read and the ask.
        model.enqueue(_answer(f"P-101.BearingTemperature is {now.value:.1f} °C.", "E1"))
        answer, records = await _ask(runtime, case)
    outcome = measure(case, answer, records, 1.0)
    assert outcome.passed, (answer.answer, outcome.problems)
    assert (outcome.valid_steps, outcome.model_steps, outcome.model_tools) == (1, 1, [])


async def test_unknown_equipment_is_settled_without_a_model_step(
    qualify_home: Path, qualify_plant: DemoPlantServer
) -> None:
    case = ask_suite.case("unknown-equipment")
    async with scripted(qualify_home, qualify_plant, ScriptedModel()) as runtime:
        answer, records = await _ask(runtime, case)
    outcome = measure(case, answer, records, 0.1)
    assert outcome.passed, outcome.problems
    assert (outcome.model_steps, outcome.tool_ok) == (0, None)


async def test_invalid_tool_arguments_count_as_an_invalid_step(
    qualify_home: Path, qualify_plant: DemoPlantServer
) -> None:
    case = ask_suite.case("history-max")
    # Not validated by the scripted model: a step that parsed but whose arguments the
    # tool's own model refuses (a negative window).
    model = ScriptedModel([
        {"action": "call_tool", "tool": "tag_history",
         "args": {"tag": "P-101.BearingTemperature", "window_minutes": -5}},
        _answer("No answer.", "E1"),
    ], validate=False)
    async with scripted(qualify_home, qualify_plant, model) as runtime:
        _answer_record, records = await _ask(runtime, case)
    valid, steps, chosen = step_counts(records)
    assert chosen == ["tag_history"]
    assert (valid, steps) == (1, 2), json.dumps([r.kind for r in records])
