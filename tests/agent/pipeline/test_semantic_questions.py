"""Questions mapped to tags through the tag semantics, on a real flat ISA-5.1 gateway
(descriptions are its only words) and a German ISA-95 plant, with a scripted model:
multi-part questions read every part, history questions read history over the window
asked, "which pumps" comes from the asset model, and equipment or quantities the plant
does not have are said by the system."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from agent.audit.sink import MemoryAuditSink
from agent.llm.scripted import ScriptedModel
from agent.pipeline import prefetch
from agent.pipeline.runner import Agent, AgentDeps
from agent.pipeline.semantic_match import map_question
from agent.policy.decision import ReadOnlyGate
from agent.settings import load_settings
from agent.twin.semantics.infer import infer
from plant.kit.server import KitPlantServer
from tests.support.plants import kit_plant
from tests.support.runtimes import SHIFT_LEAD, scripted_runtime
from tools.context import ToolContext
from tools.opcua.catalog import Catalog
from tools.opcua.models import EquipmentInfo, TagInfo
from tools.opcua.toolset import EquipmentList
from tools.registry import ToolRegistry

from ..twin.semantics.semantics_helpers import bare_catalog

on_module_loop = pytest.mark.asyncio(loop_scope="module")
ALL = {"read_tags", "tag_history", "list_equipment", "active_alarms", "check_limits",
       "read_equipment", "search_documents", "find_similar_incidents"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gateway() -> AsyncIterator[KitPlantServer]:
    async with kit_plant("waterworks") as server:
        yield server


def _final(text: str, *cites: str) -> dict[str, Any]:
    return {"action": "final_answer", "answer": text, "citations": list(cites)}


def _by_description(catalog: Catalog, words: str) -> str:
    return next(n for n, t in catalog.tags.items() if (t.description or "") == words)


@on_module_loop
async def test_plans_read_every_part_history_and_asset_kinds(
    gateway: KitPlantServer, site_home: Path,
) -> None:
    async with scripted_runtime(site_home, gateway.endpoint) as runtime:
        catalog = await runtime.catalog()
    dosing = _by_description(catalog, "HYPOCHLORITE DOSING FLOW")
    residual = _by_description(catalog, "FREE CHLORINE RESIDUAL")
    bearing = _by_description(catalog, "RW PUMP 1 DE BRG TEMP")
    plan = prefetch.plan("What are the hypochlorite dosing rate and the chlorine residual?",
                         catalog, ALL)
    assert [(c.tool, c.args) for c in plan] == [("read_tags", {"tags": [dosing, residual]})]
    plan = prefetch.plan("What was the highest bearing temperature of raw water pump 1 "
                         "over the last hour?", catalog, ALL)
    assert [(c.tool, c.args) for c in plan] == [
        ("read_tags", {"tags": [bearing]}),
        ("tag_history", {"tag": bearing, "window_minutes": 60.0})]
    plan = prefetch.plan("What was the bearing temperature of pump 1 20 minutes ago?",
                         catalog, ALL)
    assert plan[-1].args == {"tag": bearing, "window_minutes": 30.0, "aggregate": "raw",
                             "max_points": 30}
    plan = prefetch.plan("Is the strainer differential pressure rising or falling?",
                         catalog, ALL)
    assert plan[-1].tool == "tag_history" and plan[-1].args["aggregate"] == "raw"
    plan = prefetch.plan("Which pumps do we have?", catalog, ALL)
    assert [(c.tool, c.args) for c in plan] == [("list_equipment", {"eq_class": "pump"})]
    # Both bearing temperatures, one per pump; never one picked silently.
    plan = prefetch.plan("Compare the bearing temperatures of the two pumps", catalog, ALL)
    assert len(plan[0].args["tags"]) == 2


@on_module_loop
async def test_asset_questions_are_answered_from_the_asset_model(
    gateway: KitPlantServer, site_home: Path,
) -> None:
    model = ScriptedModel([])
    async with scripted_runtime(site_home, gateway.endpoint, model) as runtime:
        agent = await runtime.agent()
        pumps = await agent.ask("Which pumps do we have?", actor=SHIFT_LEAD,
                                role="shift_lead")
        sensors = await agent.ask("Which sensors does raw water pump 2 have?",
                                  actor=SHIFT_LEAD, role="shift_lead")
    step = pumps.steps[0]
    assert step.tool == "list_equipment" and step.ok
    listed = step.result
    assert isinstance(listed, EquipmentList)
    assert [e.name for e in listed.equipment] == ["RW PUMP 1", "RW PUMP 2"]
    assert all(e.eq_class == "pump" and e.tags for e in listed.equipment)
    assert pumps.written_by == "system" and pumps.citations == ["E1"]
    assert "2 of class pump: RW PUMP 1, RW PUMP 2." in pumps.answer
    assert sensors.answer.startswith("RW PUMP 2 has 5 tags:")
    assert "(bearing temperature)" in sensors.answer and "(state)" in sensors.answer
    assert model.requests == []  # never out of budget: no model step at all


@on_module_loop
async def test_a_statistic_left_out_is_added_from_history(
    gateway: KitPlantServer, site_home: Path,
) -> None:
    model = ScriptedModel([_final("It is fine.", "E1")])
    async with scripted_runtime(site_home, gateway.endpoint, model) as runtime:
        agent = await runtime.agent()
        answer = await agent.ask("What was the highest level of the clear water tank over "
                                 "the last 30 minutes?", actor=SHIFT_LEAD, role="shift_lead")
    assert [s.tool for s in answer.steps[:2]] == ["read_tags", "tag_history"]
    assert "over the cited window: min" in answer.answer and answer.grounded


@on_module_loop
async def test_a_part_the_model_left_out_is_added_by_the_system(
    gateway: KitPlantServer, site_home: Path,
) -> None:
    async with scripted_runtime(site_home, gateway.endpoint) as runtime:
        catalog = await runtime.catalog()
    residual = _by_description(catalog, "FREE CHLORINE RESIDUAL")
    model = ScriptedModel([_final("The dosing pump runs normally.", "E1")])
    async with scripted_runtime(site_home, gateway.endpoint, model) as runtime:
        agent = await runtime.agent()
        answer = await agent.ask(
            "What are the hypochlorite dosing rate and the chlorine residual?",
            actor=SHIFT_LEAD, role="shift_lead")
    assert residual in answer.answer and "mg/l" in answer.answer
    # The system's sentence names the equipment the tag's own name does not say.
    assert f"{residual} (HYPOCHLORITE DOSING) is" in answer.answer and answer.grounded


@pytest.mark.parametrize(("question", "said"), [
    ("What is the bearing temperature of raw water pump 3?", "There is no pump 3"),
    ("What is the turbidity of the treated water?", "no tag that measures turbidity"),
])
@on_module_loop
async def test_what_the_plant_does_not_have_is_said_by_the_system(
    gateway: KitPlantServer, site_home: Path, question: str, said: str,
) -> None:
    model = ScriptedModel([])
    async with scripted_runtime(site_home, gateway.endpoint, model) as runtime:
        agent = await runtime.agent()
        answer = await agent.ask(question, actor=SHIFT_LEAD, role="shift_lead")
    assert answer.outcome == "cannot_answer" and answer.written_by == "system"
    assert said in answer.answer, answer.answer
    assert model.requests == []


@on_module_loop
async def test_a_server_without_words_says_what_it_cannot_tell(tmp_path: Path) -> None:

    model = ScriptedModel([])
    ctx = ToolContext(settings=load_settings(home=tmp_path), catalog=bare_catalog())
    agent = Agent(AgentDeps(model=model, registry=ToolRegistry(), tool_context=ctx,
                            policy=ReadOnlyGate(), audit=MemoryAuditSink()))
    answer = await agent.ask("What is the discharge pressure?", actor="ana",
                             role="shift_lead")
    assert answer.outcome == "cannot_answer" and model.requests == []
    assert "no tag that measures pressure" in answer.answer
    assert "6 of the plant's 6 tags" in answer.answer and "Device1.Tag001" in answer.answer
    assert "assets.toml" in answer.answer


def test_two_tags_that_look_alike_are_both_read() -> None:

    catalog = Catalog(endpoint="opc.tcp://127.0.0.1:1/")
    tags = [TagInfo(name=f"K1.{n}", equipment="K1", browse_path=["K1", n],
                    node_id=f"nsu=urn:x;s={n}", namespace_uri="urn:x", unit="°C",
                    description=d)
            for n, d in (("T1", "Boiler water temperature"),
                         ("T2", "Boiler water temperature (redundant)"))]
    catalog.add(EquipmentInfo(name="K1", browse_path=["K1"], node_id="nsu=urn:x;s=K1",
                              description="Steam boiler"), tags)
    mapping = map_question("What is the boiler water temperature?", infer(catalog))
    assert mapping.tags == ["K1.T1", "K1.T2"]


def test_a_quantity_asked_must_be_the_tags_quantity() -> None:
    catalog = Catalog(endpoint="opc.tcp://127.0.0.1:1/")
    tags = [TagInfo(name=f"AHU_7.{n}", equipment="AHU_7", browse_path=["AHU_7", n],
                    node_id=f"nsu=urn:x;s={n}", namespace_uri="urn:x", unit=u, description=d)
            for n, d, u in (("SA_FLOW", "Supply air flow", "m³/h"),
                            ("SAT", "Supply air temperature", "°C"))]
    catalog.add(EquipmentInfo(name="AHU_7", browse_path=["AHU_7"],
                              node_id="nsu=urn:x;s=AHU_7"), tags)
    mapping = map_question("What is the CO2 concentration in the supply air?", infer(catalog))
    assert mapping.tags == [] and mapping.unmatched_quantities == ["concentration"]
    assert map_question("What is the supply air temperature?",
                        infer(catalog)).tags == ["AHU_7.SAT"]


@on_module_loop
async def test_a_value_minutes_ago_is_read_from_history(
    gateway: KitPlantServer, site_home: Path,
) -> None:
    model = ScriptedModel([_final("It is fine.", "E1")])
    async with scripted_runtime(site_home, gateway.endpoint, model) as runtime:
        agent = await runtime.agent()
        answer = await agent.ask("What was the level of the clear water tank 20 minutes "
                                 "ago?", actor=SHIFT_LEAD, role="shift_lead")
    history = answer.steps[1]
    assert history.tool == "tag_history" and history.args["aggregate"] == "raw"
    assert history.args["window_minutes"] == 30.0
    assert "(CLEAR WATER TANK) was " in answer.answer
    assert answer.grounded, answer.unsupported


def test_current_before_a_quantity_means_now() -> None:
    catalog = Catalog(endpoint="opc.tcp://127.0.0.1:1/")
    tags = [TagInfo(name=f"P_9.{n}", equipment="P_9", browse_path=["P_9", n],
                    node_id=f"nsu=urn:x;s={n}", namespace_uri="urn:x", unit=u, description=d)
            for n, d, u in (("II", "Pump motor current", "A"),
                            ("TT", "Pump bearing temperature", "°C"))]
    catalog.add(EquipmentInfo(name="P_9", browse_path=["P_9"], node_id="p9",
                              description="Feed pump"), tags)
    semantics = infer(catalog)
    assert map_question("What is the current bearing temperature of the pump?",
                        semantics).tags == ["P_9.TT"]
    assert map_question("What is the motor current of the pump?", semantics).tags == ["P_9.II"]


def test_a_running_question_about_limits_is_not_refused() -> None:
    catalog = Catalog(endpoint="opc.tcp://127.0.0.1:1/")
    tags = [TagInfo(name="P_9.TT", equipment="P_9", browse_path=["P_9", "TT"],
                    node_id="nsu=urn:x;s=TT", namespace_uri="urn:x", unit="°C",
                    description="Pump bearing temperature")]
    catalog.add(EquipmentInfo(name="P_9", browse_path=["P_9"], node_id="p9",
                              description="Feed pump"), tags)
    mapping = map_question("Is P_9 running?", infer(catalog))
    assert mapping.unmatched_quantities == []  # 'running' is a verb as often as a tag
