"""Questions that ask only for current values are answered by the system from its readings,
without a model step, on two differently named real plants (an ISA-5.1 gateway whose
descriptions are its only words, and a German ISA-95 plant); anything more goes to the
model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from agent.llm.scripted import ScriptedModel
from agent.pipeline.plain_reading import asks_values_only
from plant.kit.server import KitPlantServer
from tests.support.plants import kit_plant
from tests.support.runtimes import SHIFT_LEAD, scripted_runtime
from tools.opcua.catalog import Catalog

on_module_loop = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize("question", [
    "What is the bearing temperature of raw water pump 1?",
    "What's the current level of the clear water tank?",
    "How full is the clear water tank?",
    "What are the hypochlorite dosing rate and the chlorine residual?",
    "Show me the discharge pressure of P-101",
    "Wie hoch ist die Lagertemperatur von Kühlwasserpumpe 1?",
    "Wie warm ist der Kühlwasser-Vorlauf?",
    "Quelle est la pression de refoulement de P-101 ?",
    "¿Cuál es la temperatura del rodamiento de P-101?",
])
def test_value_questions_ask_for_values_only(question: str) -> None:
    assert asks_values_only(question)


@pytest.mark.parametrize("question", [
    "Why is the bearing temperature of raw water pump 1 rising?",
    "What should I do about the clear water tank level?",
    "Compare the bearing temperatures of raw water pump 1 and raw water pump 2.",
    "What does the bearing temperature of pump 1 mean?",
    "What is the level of the clear water tank? Is that safe?",
    "Is the level of the clear water tank normal?",
    "Set the discharge pressure of P-101 to 5 bar",
    "Warum ist die Lagertemperatur von Pumpe 1 so hoch?",
    "Pourquoi la pression de P-101 baisse ?",
    "¿Por qué sube la temperatura de P-101?",
])
def test_questions_asking_more_go_to_the_model(question: str) -> None:
    assert not asks_values_only(question)


def _final(text: str, *cites: str) -> dict[str, Any]:
    return {"action": "final_answer", "answer": text, "citations": list(cites)}


def _by_description(catalog: Catalog, words: str) -> str:
    return next(n for n, t in catalog.tags.items() if (t.description or "") == words)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gateway() -> AsyncIterator[KitPlantServer]:
    async with kit_plant("waterworks") as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def kuehlwasser() -> AsyncIterator[KitPlantServer]:
    async with kit_plant("kuehlwasser") as server:
        yield server


@on_module_loop
async def test_a_value_question_is_answered_by_the_system_on_the_gateway(
    gateway: KitPlantServer, site_home: Path,
) -> None:
    model = ScriptedModel([])
    async with scripted_runtime(site_home, gateway.endpoint, model) as runtime:
        catalog = await runtime.catalog()
        agent = await runtime.agent()
        answer = await agent.ask("What is the bearing temperature of raw water pump 1?",
                                 actor=SHIFT_LEAD, role="shift_lead")
    tag = _by_description(catalog, "RW PUMP 1 DE BRG TEMP")
    assert model.requests == []  # no model step at all
    assert answer.written_by == "system" and answer.grounded and answer.outcome == "answered"
    assert answer.citations == ["E1"] and answer.steps[0].args == {"tags": [tag]}
    # The system's sentence: the tag, the equipment its name does not say, value and unit.
    assert answer.answer.startswith(f"{tag} (RW PUMP 1) is ") and "°C at " in answer.answer


@on_module_loop
async def test_two_values_in_german_are_answered_by_the_system(
    kuehlwasser: KitPlantServer, site_home: Path,
) -> None:
    model = ScriptedModel([])
    async with scripted_runtime(site_home, kuehlwasser.endpoint, model) as runtime:
        agent = await runtime.agent()
        answer = await agent.ask("Wie hoch sind Vorlauf- und Rücklauftemperatur am "
                                 "Wärmetauscher?", actor=SHIFT_LEAD, role="shift_lead")
    assert model.requests == [] and answer.written_by == "system" and answer.grounded
    read = answer.steps[0].args["tags"]
    assert len(read) == 2 and all(f"{t} " in answer.answer for t in read)


@on_module_loop
async def test_a_why_question_still_goes_to_the_model(
    gateway: KitPlantServer, site_home: Path,
) -> None:
    model = ScriptedModel([_final("The bearing runs warm.", "E1")])
    async with scripted_runtime(site_home, gateway.endpoint, model) as runtime:
        agent = await runtime.agent()
        answer = await agent.ask("Why is the bearing temperature of raw water pump 1 "
                                 "where it is?", actor=SHIFT_LEAD, role="shift_lead")
    assert model.requests and answer.written_by in ("model", "model+system")


@on_module_loop
async def test_a_site_can_have_the_model_write_every_answer(
    gateway: KitPlantServer, site_home: Path,
) -> None:
    model = ScriptedModel([_final("It is warm.", "E1")])
    async with scripted_runtime(site_home, gateway.endpoint, model,
                                settings={"agent": {"user": SHIFT_LEAD, "role": "shift_lead",
                                                    "plain_readings": False}}) as runtime:
        agent = await runtime.agent()
        answer = await agent.ask("What is the bearing temperature of raw water pump 1?",
                                 actor=SHIFT_LEAD, role="shift_lead")
    assert model.requests and answer.written_by != "system"
