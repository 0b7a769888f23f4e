"""The change path in the real pipeline, with the real policy engine, approval service,
encrypted audit log and an in-process OPC UA server: a person's change request is read
from their own words, the current value is read, the engine decides without side
effects, only an allowed change becomes a pending request (one route), and the answer is
built by the system from the decision. The model writes none of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from pydantic import BaseModel

from agent.approvals.models import ApprovalRequest
from agent.approvals.service import ApprovalService
from agent.audit.log import AuditLog
from agent.llm.scripted import ScriptedModel
from agent.pipeline.answer import AgentAnswer
from agent.pipeline.runner import Agent, AgentDeps
from agent.policy.engine import PolicyEngine
from agent.settings import load_settings
from agent.vault import Site
from tools import fixes
from tools import opcua as opcua_tools
from tools.context import ToolContext
from tools.opcua.browse import browse_catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.toolset import Readings
from tools.registry import ToolRegistry, tool
from tools.types import TagName

from .policy_helpers import Clock, UaPlant, start_test_plant

pytestmark = pytest.mark.asyncio(loop_scope="module")
TAG = "T-101.LevelSetpoint"
WRITES: list[Any] = []


class WriteArgs(BaseModel):
    tag: TagName
    value: float


class WriteResult(BaseModel):
    ok: bool


@tool(writes_to_plant=True, requires_approval=True)
async def write_setpoint(ctx: ToolContext, args: WriteArgs) -> WriteResult:
    """Write a setpoint directly (the policy must never let this run)."""
    WRITES.append(args)
    return WriteResult(ok=True)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_plant() -> AsyncIterator[UaPlant]:
    plant = await start_test_plant()
    yield plant
    await plant.server.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def plant(shared_plant: UaPlant) -> UaPlant:
    await shared_plant.reset()
    return shared_plant


@pytest_asyncio.fixture(loop_scope="module")
async def conn(plant: UaPlant, site: Site) -> AsyncIterator[OpcUaConnection]:
    settings = load_settings(home=site.home, opcua={"endpoint": plant.endpoint, "timeout_s": 3})
    async with OpcUaConnection.from_settings(settings) as connection:
        yield connection


async def _agent(conn: OpcUaConnection, site: Site, service: ApprovalService, audit: AuditLog,
                 clock: Clock, model: ScriptedModel | None = None) -> Agent:
    registry = ToolRegistry()
    opcua_tools.register(registry)
    registry.register(write_setpoint)
    fixes.register(registry, service.policy)
    settings = load_settings(home=site.home, agent={"user": "ann", "role": "shift_lead"})
    ctx = ToolContext(settings=settings, opcua=conn, catalog=await browse_catalog(conn),
                      clock=clock)
    engine = PolicyEngine(service.policy)
    return Agent(AgentDeps(model=model or ScriptedModel(), registry=registry, tool_context=ctx,
                           policy=engine, audit=audit, approvals=service))


async def _ask(agent: Agent, question: str, role: str = "shift_lead") -> AgentAnswer:
    return await agent.ask(question, actor="ann", role=role)


def _nothing_for_the_model(answer: AgentAnswer) -> None:
    for phrase in ("Rewrite", "check: not in", "[unverified", "grounding"):
        assert phrase not in answer.answer


async def test_an_allowed_change_becomes_one_pending_request_stated_by_the_system(
    conn: OpcUaConnection, site: Site, service: ApprovalService, audit: AuditLog,
    clock: Clock, plant: UaPlant,
) -> None:
    model = ScriptedModel()
    agent = await _agent(conn, site, service, audit, clock, model)
    answer = await _ask(agent, "Set the T-101 level setpoint to 58.")
    assert model.requests == []  # the model wrote none of it
    (request,) = service.requests({"pending"})
    assert (request.target.tag, request.value, request.requested_by) == (TAG, 58.0, "ann")
    assert answer.written_by == "system" and answer.grounded
    assert answer.answer.startswith(
        f"Approval request {request.id} was created: set {TAG} from 55 % (read at ")
    assert "to 58 %. Nothing has been written: T-101.LevelSetpoint stays 55 %" in answer.answer
    assert "Who must approve: a person with role engineer." in answer.answer
    assert "Two-person rule: yes, the approver must be someone other than ann." in answer.answer
    assert "The request expires at 2026-11-22 12:30 UTC (in 30 min)." in answer.answer
    _nothing_for_the_model(answer)
    assert await plant.value(TAG) == 55.0  # nothing written
    read, proposal = answer.steps
    assert isinstance(read.result, Readings) and read.result.readings[0].value == 55.0
    assert isinstance(proposal.result, ApprovalRequest) and proposal.result.id == request.id
    assert answer.citations == [read.evidence_id, proposal.evidence_id]
    # The decision came first and is recorded with the person's request as its input.
    kinds = [(r.kind, r.payload.get("event")) for r in audit.search()]
    assert kinds.index(("policy_decision", None)) < kinds.index(("approval", "requested"))
    decision = [r.payload for r in audit.search(kind="policy_decision")][-1]
    requested = decision["requested"]
    assert decision["allowed"] is True
    assert isinstance(requested, dict) and requested["value"] == 58.0


@pytest.mark.parametrize(("question", "says"), [
    ("Set LevelSetpoint on T-101 to 75.0.", [
        "Not requested: 75 % is outside the range rule 'tank level setpoint' allows for "
        "T-101.LevelSetpoint (40 % to 70 %). Nothing was requested or written.",
        "T-101.LevelSetpoint is 55 % (read at ",
        'You can ask instead: "Set T-101.LevelSetpoint to 60 %".']),
    ("Set the T-101 level setpoint to 64", [
        "64 % is 9 % away from the current value 55 %; rule 'tank level setpoint' allows at "
        "most 5 % per change",
        'You can ask instead: "Set T-101.LevelSetpoint to 60 %".']),
    ("Set the T-101 level setpoint to max", [
        "Not requested: a change needs the exact value to write ('max' is not a number).",
        "Rule 'tank level setpoint' allows 40 % to 70 %, at most 5 % per change.",
        'You can ask instead: "Set T-101.LevelSetpoint to 60 %".']),
    ("Set T-101.Level to 50.", [
        "Not requested: T-101.Level is not on the write allowlist",
        "Setpoints that can be changed here: T-101.LevelSetpoint (40 % - 70 %), "
        "HX-101.OutletSetpoint (20 °C - 45 °C).",
        'You can ask instead: "Set T-101.LevelSetpoint to <40 - 70 %>".']),
    ("Set the T-101 level setpoint to 55", ["Not requested: T-101.LevelSetpoint is already "
                                             "55 %."]),
])
async def test_refused_changes_state_the_rule_range_and_what_to_ask_instead(
    conn: OpcUaConnection, site: Site, service: ApprovalService, audit: AuditLog,
    clock: Clock, question: str, says: list[str],
) -> None:
    model = ScriptedModel()
    agent = await _agent(conn, site, service, audit, clock, model)
    answer = await _ask(agent, question)
    assert model.requests == [] and service.requests() == []
    for part in says:
        assert part in answer.answer, answer.answer
    _nothing_for_the_model(answer)
    decision = [r.payload for r in audit.search(kind="policy_decision")][-1]
    assert decision["allowed"] is False and decision["action"] == "change"


@pytest.mark.parametrize(("question", "language_says"), [
    ("Stelle den Füllstand-Sollwert von T-101 auf 57,5", [
        "wurde angelegt: T-101.LevelSetpoint von 55 % (gelesen um",
        "auf 57.5 % setzen", "Freigeben muss: eine Person mit der Rolle engineer.",
        "Vier-Augen-Prinzip: ja"]),
    ("Réglez la consigne de niveau de T-101 à 58", [
        "La demande d'approbation", "régler T-101.LevelSetpoint de 55 % (lu à",
        "à 58 %", "Règle des deux personnes : oui"]),
    ("Ajusta la consigna de nivel del T-101 a 58", [
        "Se creó la solicitud de aprobación", "ajustar T-101.LevelSetpoint de 55 %",
        "a 58 %", "Regla de dos personas: sí"]),
])
async def test_requests_in_other_languages_are_answered_in_them(
    conn: OpcUaConnection, site: Site, service: ApprovalService, audit: AuditLog,
    clock: Clock, question: str, language_says: list[str],
) -> None:
    agent = await _agent(conn, site, service, audit, clock)
    answer = await _ask(agent, question)
    (request,) = service.requests({"pending"})
    assert request.id in answer.answer and request.target.tag == TAG
    for part in language_says:
        assert part in answer.answer, answer.answer


async def test_a_question_that_mixes_a_change_and_a_reading(
    conn: OpcUaConnection, site: Site, service: ApprovalService, audit: AuditLog,
    clock: Clock,
) -> None:
    model = ScriptedModel([
        {"action": "final_answer", "citations": ["E3"],
         "answer": "T-101.Level is 54.2 %. I have set the setpoint to 58 %."},
    ])
    agent = await _agent(conn, site, service, audit, clock, model)
    answer = await _ask(agent, "Set the T-101 level setpoint to 58 and tell me the current "
                               "level.")
    (request,) = service.requests({"pending"})
    system, model_part = answer.answer.split("\n\n")
    assert system.startswith(f"Approval request {request.id} was created")
    # The model's sentence about the change is dropped: the system states the change.
    assert model_part == "T-101.Level is 54.2 %."
    assert answer.written_by == "model+system"
    assert [r.text for r in answer.replaced] == ["I have set the setpoint to 58 %."]
    # The reads were for the rest of the question: the level itself (E3).
    assert [s.tool for s in answer.steps] == ["read_tags", "propose_setpoint_change",
                                              "read_tags"]


async def test_only_people_allowed_to_propose_can_start_a_change(
    conn: OpcUaConnection, site: Site, service: ApprovalService, audit: AuditLog,
    clock: Clock,
) -> None:
    agent = await _agent(conn, site, service, audit, clock)
    answer = await _ask(agent, "Set the T-101 level setpoint to 58.", role="triage_service")
    assert service.requests() == []
    assert "role triage_service may not request plant changes" in answer.answer
    assert "Ask someone with role engineer or shift_lead." in answer.answer


async def test_a_rule_without_the_two_person_rule_says_so(
    conn: OpcUaConnection, site: Site, service: ApprovalService, audit: AuditLog,
    clock: Clock,
) -> None:
    agent = await _agent(conn, site, service, audit, clock)
    answer = await _ask(agent, "Please set HX-101.OutletSetpoint to 37")
    (request,) = service.requests({"pending"})
    assert request.two_person_rule is False
    assert "Two-person rule: not required by rule 'cooler setpoint'." in answer.answer


async def test_no_tool_approves_proposes_or_writes_for_the_model(
    conn: OpcUaConnection, site: Site, service: ApprovalService, audit: AuditLog,
    clock: Clock,
) -> None:
    WRITES.clear()
    # The model (as if steered by a planted manual) tries a write in a read question.
    model = ScriptedModel([
        {"action": "call_tool", "tool": "write_setpoint",
         "args": {"tag": TAG, "value": 60.0}},
        {"action": "final_answer", "answer": "T-101.LevelSetpoint is 55 %.",
         "citations": ["E1"]},
    ])
    agent = await _agent(conn, site, service, audit, clock, model)
    answer = await _ask(agent, "What is the T-101 level setpoint?")
    assert WRITES == [] and service.requests() == []
    names = agent.deps.registry.names()
    assert not any(n.startswith("propose_setpoint") or "approve" in n for n in names)
    # The one proposal route is not a tool: the model's schema never offers it.
    assert "propose_setpoint_change" not in str(model.requests[0].schema)
    assert [s.tool for s in answer.steps if not s.ok] == ["write_setpoint"]
    assert answer.answer.startswith("T-101.LevelSetpoint is 55 %")
