"""The question pipeline with a scripted model: control flow, policy hook, typed steps
and evidence, the grounded writer."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

from agent.audit.errors import AuditWriteError
from agent.audit.sink import MemoryAuditSink
from agent.errors import OpcUaUnavailable, UsageError
from agent.llm.scripted import ScriptedModel
from agent.pipeline.evidence import Refused, ToolFailure
from agent.pipeline.runner import Agent, AgentDeps
from agent.policy.decision import ReadOnlyGate
from agent.settings import load_settings
from tools.context import ToolContext
from tools.limits import LimitCheck, OutOfRange
from tools.opcua.catalog import Catalog
from tools.opcua.models import EquipmentInfo, Reading, TagInfo
from tools.opcua.toolset import Readings
from tools.registry import ToolRegistry, tool
from tools.types import TagName


class ReadArgs(BaseModel):
    tags: list[TagName] = Field(min_length=1, max_length=10)


VALUES = {"P-101.FlowRate": 42.37, "P-101.BearingTemp": 61.2}
READ_AT = datetime(2026, 11, 23, 12, 3, 4, tzinfo=UTC)
SERVER_DOWN: list[bool] = []
WRITES: list[Any] = []


@tool()
async def read_tags(ctx: ToolContext, args: ReadArgs) -> Readings:
    """Read current values of tags."""
    assert ctx.catalog is not None
    if SERVER_DOWN:
        raise OpcUaUnavailable("the OPC UA server did not answer", fix="check the server")
    out = []
    for name in args.tags:
        info = ctx.catalog.tag(name)
        out.append(Reading(tag=name, value=VALUES[name], unit=info.unit, low=info.eu_low,
                           high=info.eu_high, source_timestamp=READ_AT, quality="good",
                           status="Good", stale=False))
    return Readings(readings=out)


class WriteArgs(BaseModel):
    tag: TagName
    value: float


@tool(requires_approval=True, writes_to_plant=True)
async def write_tag(ctx: ToolContext, args: WriteArgs) -> Readings:
    """Write a value (must never run without approval)."""
    WRITES.append(args)
    return Readings(readings=[])


def _catalog() -> Catalog:
    catalog = Catalog(endpoint="opc.tcp://127.0.0.1:1/")
    tags = [
        TagInfo(name=name, equipment="P-101", browse_path=["P-101", name], node_id=name,
                namespace_uri="urn:test", unit=unit, eu_low=0, eu_high=100)
        for name, unit in (("P-101.FlowRate", "m³/h"), ("P-101.BearingTemp", "°C"))
    ]
    catalog.add(EquipmentInfo(name="P-101", browse_path=["P-101"], node_id="p101",
                              description="Feed pump"), tags)
    return catalog


def _agent(
    tmp_path: Path, model: ScriptedModel, *, max_steps: int = 4
) -> tuple[Agent, MemoryAuditSink]:
    registry = ToolRegistry()
    registry.register(read_tags, write_tag)
    audit = MemoryAuditSink()
    ctx = ToolContext(settings=load_settings(home=tmp_path), catalog=_catalog())
    deps = AgentDeps(model=model, registry=registry, tool_context=ctx, policy=ReadOnlyGate(),
                     audit=audit, max_steps=max_steps)
    return Agent(deps), audit


def _call(tool_name: str, **args: Any) -> dict[str, Any]:
    return {"action": "call_tool", "tool": tool_name, "args": args}


def _final(text: str, *cites: str) -> dict[str, Any]:
    return {"action": "final_answer", "answer": text, "citations": list(cites)}


async def test_reading_question_is_answered_with_cited_grounded_evidence(tmp_path: Path) -> None:
    model = ScriptedModel([
        _call("read_tags", tags=["P-101.BearingTemp"]),
        _final("P-101.BearingTemp is 61.2 °C.", "E1"),
    ])
    agent, audit = _agent(tmp_path, model)
    answer = await agent.ask("Which reading of the feed pump is hottest?", actor="ana",
                             role="shift_lead")
    assert answer.outcome == "answered"
    assert answer.grounded, answer.unsupported
    assert answer.citations == ["E1"]
    assert answer.steps[0].tool == "read_tags" and answer.steps[0].ok
    assert audit.kinds() == ["question", "model_call", "policy_decision", "tool_call",
                             "tool_result", "model_call", "answer"]
    # The second step saw the tool result under its evidence id.
    second = model.requests[1]
    assert any(m.role == "tool" and m.content.startswith("E1 read_tags") for m in second.history)
    # The tag enum in the schema came from the catalog.
    assert "P-101.FlowRate" in str(second.schema)


async def test_obvious_reads_are_prefetched_before_the_first_model_step(tmp_path: Path) -> None:
    model = ScriptedModel([_final("P-101.FlowRate is 42.4 m³/h.", "E1")])
    agent, audit = _agent(tmp_path, model)
    answer = await agent.ask("How is the flow of P-101?", actor="ana", role="shift_lead")
    assert answer.grounded and answer.citations == ["E1"]
    assert answer.steps[0].args == {"tags": ["P-101.FlowRate"]}
    # The prefetch went through the policy gate and the audit like any call.
    assert audit.kinds()[:4] == ["question", "policy_decision", "tool_call", "tool_result"]
    first = model.requests[0]
    assert first.history[-1].content.startswith("E1 read_tags")
    # With evidence in hand, "cannot answer" is no longer offered.
    actions = [o["properties"]["action"]["const"] for o in first.schema["oneOf"]]
    assert "cannot_answer" not in actions


async def test_an_ungrounded_answer_goes_back_once_then_the_system_states_the_fact(
    tmp_path: Path,
) -> None:
    model = ScriptedModel([
        _final("P-101.FlowRate is 42.4 m³/h and the bearing is at 95 °C.", "E1"),
        _final("P-101.FlowRate is 42.4 m³/h, bearing at 95 °C.", "E1"),
    ])
    agent, audit = _agent(tmp_path, model)
    answer = await agent.ask("How is the flow of P-101?", actor="ana", role="shift_lead")
    # The 95 °C claimed for the bearing is no reading: after the redraft the sentence is
    # replaced by the system's own sentence for that tag, never shown marked.
    assert answer.grounded and answer.unsupported == []
    assert "95" not in answer.answer and "[unverified" not in answer.answer
    assert answer.written_by == "system"
    assert "P-101.FlowRate is 42.37 m³/h at 12:03:04 UTC." in answer.answer
    assert answer.replaced and answer.replaced[0].text.startswith("P-101.FlowRate is 42.4")
    feedback = model.requests[1].history[-1]
    assert feedback.name == "grounding_check"
    assert "95: no cited reading of P-101.BearingTemp" in feedback.content
    # The instruction meant for the model never reaches the person.
    assert "Rewrite" not in answer.answer and "check: not in" not in answer.answer
    assert [r.payload.get("redraft") for r in audit.records if r.kind == "answer"][-2:] == [
        True, None]


async def test_redraft_can_repair_an_ungrounded_answer(tmp_path: Path) -> None:
    model = ScriptedModel([
        _final("P-101.FlowRate is 45 m³/h.", "E1"),
        _final("P-101.FlowRate is 42.37 m³/h.", "E1"),
    ])
    agent, _ = _agent(tmp_path, model)
    answer = await agent.ask("Flow of P-101?", actor="ana", role="shift_lead")
    assert answer.grounded and answer.answer == "P-101.FlowRate is 42.37 m³/h."


async def test_unknown_equipment_is_answered_by_the_system_not_the_model(
    tmp_path: Path,
) -> None:
    model = ScriptedModel()
    agent, audit = _agent(tmp_path, model)
    answer = await agent.ask("What is the temperature of P-999?", actor="ana", role="shift_lead")
    assert model.requests == []
    assert answer.outcome == "cannot_answer" and answer.grounded
    assert answer.answer.startswith("P-999 is not in the plant catalog")
    assert answer.citations == ["E1"] and answer.steps[0].tool == "catalog_lookup"
    assert "tool_result" in audit.kinds()


async def test_unknown_and_known_equipment_together_go_to_the_model(tmp_path: Path) -> None:
    model = ScriptedModel([_final("P-999 is not in the plant; P-101.FlowRate is 42.37 m³/h.",
                                  "E1", "E2")])
    agent, _ = _agent(tmp_path, model)
    answer = await agent.ask("Compare the flow of P-101 and P-999", actor="ana",
                             role="shift_lead")
    assert [s.tool for s in answer.steps] == ["catalog_lookup", "read_tags"]
    assert "not in the plant catalog" in model.requests[0].history[1].content
    assert answer.grounded, answer.unsupported


async def test_a_made_up_equipment_name_never_reaches_the_person(tmp_path: Path) -> None:
    model = ScriptedModel([_final("P-101.FlowRate is 42.37 m³/h. P-777 is fine.", "E1"),
                           _final("P-101.FlowRate is 42.37 m³/h. P-777 is fine.", "E1")])
    agent, _ = _agent(tmp_path, model)
    answer = await agent.ask("Flow of P-101?", actor="ana", role="shift_lead")
    # The redraft repeated the rejected draft: it is not checked again, the sentence
    # naming a made-up equipment is dropped, the grounded one kept.
    assert len(model.requests) == 2
    assert answer.answer == "P-101.FlowRate is 42.37 m³/h."
    assert answer.written_by == "model+system"
    assert [r.text for r in answer.replaced] == ["P-777 is fine."]


async def test_a_question_off_the_plant_is_refused_without_the_model(tmp_path: Path) -> None:
    model = ScriptedModel()
    agent, _ = _agent(tmp_path, model)
    answer = await agent.ask("Will it rain tomorrow?", actor="ana", role="shift_lead")
    assert model.requests == []
    assert answer.outcome == "cannot_answer" and answer.steps == []
    assert "Needed:" in answer.answer


async def test_nothing_to_read_leaves_cannot_answer_open(tmp_path: Path) -> None:
    model = ScriptedModel([{"action": "cannot_answer", "reason": "no maintenance records",
                            "needed": "the maintenance plan"}])
    agent, _ = _agent(tmp_path, model)
    answer = await agent.ask("When is the pump due for maintenance?", actor="ana",
                             role="shift_lead")
    assert answer.outcome == "cannot_answer" and answer.steps == []
    assert "maintenance plan" in answer.answer


async def test_policy_refuses_a_write_and_the_tool_never_runs(tmp_path: Path) -> None:
    WRITES.clear()
    model = ScriptedModel([
        _call("write_tag", tag="P-101.FlowRate", value=50.0),
        _final("P-101.FlowRate is 42.37 m³/h.", "E1"),
    ])
    agent, audit = _agent(tmp_path, model)
    answer = await agent.ask("What does P-101 flow at, could it be 50?", actor="ana",
                             role="shift_lead")
    assert WRITES == []
    decisions = [r.payload for r in audit.records if r.kind == "policy_decision"]
    assert decisions[-1]["tool"] == "write_tag" and decisions[-1]["allowed"] is False
    refused = answer.steps[-1]
    assert refused.tool == "write_tag" and refused.ok is False and refused.evidence_id is None
    assert isinstance(refused.result, Refused) and refused.result.rule == "read-only-default"
    assert [r.payload["tool"] for r in audit.records if r.kind == "tool_call"] == [
        "read_tags"]


async def test_a_change_request_without_an_approval_workflow_is_refused_by_the_system(
    tmp_path: Path,
) -> None:
    WRITES.clear()
    model = ScriptedModel()
    agent, audit = _agent(tmp_path, model)
    answer = await agent.ask("Set P-101 flow to 50", actor="ana", role="shift_lead")
    assert WRITES == [] and model.requests == []
    assert answer.written_by == "system"
    assert answer.answer.startswith("Not requested: no approval workflow is configured")
    decision = [r.payload for r in audit.records if r.kind == "policy_decision"][-1]
    assert decision["action"] == "change" and decision["allowed"] is False


async def test_the_model_reads_what_no_rule_prefetched(tmp_path: Path) -> None:
    model = ScriptedModel([
        _call("read_tags", tags=["P-101.FlowRate"]),
        _final("P-101.FlowRate is 42.37 m³/h.", "E1"),
    ])
    agent, _ = _agent(tmp_path, model)
    answer = await agent.ask("Read the pump, please", actor="ana", role="shift_lead")
    assert model.requests[0].history[-1].role == "user"  # nothing was prefetched
    assert answer.grounded and [s.tool for s in answer.steps] == ["read_tags"]


async def test_a_bug_in_a_tool_is_not_hidden_as_a_tool_error(tmp_path: Path) -> None:
    model = ScriptedModel([
        _call("read_tags", tags=["P-101.BearingTemp"]),
        _final("P-101.BearingTemp is 61.2 °C.", "E1"),
    ])
    VALUES.pop("P-101.BearingTemp")
    try:
        agent, _ = _agent(tmp_path, model)
        with pytest.raises(KeyError):
            # A bug in a tool (here a KeyError) is not hidden as a tool error.
            await agent.ask("Bearing temperature of P-101?", actor="ana", role="shift_lead")
    finally:
        VALUES["P-101.BearingTemp"] = 61.2


async def test_the_budget_forces_an_answer_on_the_last_step(tmp_path: Path) -> None:
    # Two different calls (a repeated one would make the next step answer-only by itself,
    # see the next test): the third step is answer-only because it is the last.
    model = ScriptedModel([_call("read_tags", tags=["P-101.FlowRate"]),
                           _call("read_tags", tags=["P-101.BearingTemp"]),
                           _final("P-101.FlowRate is 42.37 m³/h.", "E1")])
    agent, audit = _agent(tmp_path, model, max_steps=3)
    answer = await agent.ask("What does the pump do?", actor="ana", role="shift_lead")
    assert audit.kinds().count("tool_call") == 2
    assert "call_tool" in [o["properties"]["action"]["const"]
                           for o in model.requests[1].schema["oneOf"]]
    # On the last step the schema offers no tool call.
    last_schema = model.requests[-1].schema
    assert all(o["properties"]["action"]["const"] != "call_tool" for o in last_schema["oneOf"])
    assert answer.grounded and answer.outcome == "answered"


async def test_after_a_repeated_call_the_next_step_can_only_answer(tmp_path: Path) -> None:
    call = _call("read_tags", tags=["P-101.FlowRate"])
    model = ScriptedModel([call, call, _final("P-101.FlowRate is 42.37 m³/h.", "E1")])
    agent, audit = _agent(tmp_path, model, max_steps=6)
    answer = await agent.ask("What does the pump do?", actor="ana", role="shift_lead")
    assert audit.kinds().count("tool_call") == 1
    actions = [[o["properties"]["action"]["const"] for o in r.schema["oneOf"]]
               for r in model.requests]
    assert "call_tool" in actions[0] and "call_tool" in actions[1]
    assert "call_tool" not in actions[2]
    assert answer.grounded and answer.outcome == "answered"


async def test_invalid_model_output_costs_a_step_not_the_question(tmp_path: Path) -> None:
    model = ScriptedModel(["{not json", _call("read_tags", tags=["P-101.FlowRate"]),
                           _final("P-101.FlowRate is 42.4 m³/h.", "E1")])
    agent, audit = _agent(tmp_path, model)
    answer = await agent.ask("What does the pump do?", actor="ana", role="shift_lead")
    assert answer.outcome == "answered"
    assert "error" in audit.kinds()
    # The cut-off step is retried with more room and no error text the model could copy.
    first, retry = model.requests[0], model.requests[1]
    assert retry.max_tokens == 2 * first.max_tokens
    assert retry.history == first.history


async def test_steps_run_out_without_an_answer(tmp_path: Path) -> None:
    model = ScriptedModel(["{bad", "{bad"])
    agent, _ = _agent(tmp_path, model, max_steps=2)
    answer = await agent.ask("Flow of P-101?", actor="ana", role="shift_lead")
    # Every value asked for was read by the prefetch: the system states it, and says
    # the model did not finish.
    assert answer.outcome == "answered" and answer.written_by == "system"
    assert "did not finish" in answer.answer
    assert "P-101.FlowRate is 42.37 m³/h at 12:03:04 UTC." in answer.answer
    # A question whose values were not all read still runs out of budget, said so.
    model = ScriptedModel(["{bad", "{bad"])
    agent, _ = _agent(tmp_path, model, max_steps=2)
    answer = await agent.ask("How is the feed pump doing?", actor="ana", role="shift_lead")
    assert answer.outcome == "budget_exhausted" and "could not finish" in answer.answer


async def test_a_rejected_request_is_never_sent_again_unchanged(tmp_path: Path) -> None:
    # At the largest step size a cut-off step cannot get more room: the same request
    # would give the same output, so it is not sent again.
    model = ScriptedModel(["{bad", "{bad", "{bad", "{bad"])
    agent, _ = _agent(tmp_path, model, max_steps=4)
    agent.deps.max_step_tokens = 1024
    answer = await agent.ask("Flow of P-101?", actor="ana", role="shift_lead")
    assert answer.outcome == "answered" and answer.written_by == "system"
    assert len(model.requests) == 1


@pytest.mark.parametrize("question", ["", "   ", "x" * 5000])
async def test_bad_questions_are_refused_with_a_fix(tmp_path: Path, question: str) -> None:
    agent, audit = _agent(tmp_path, ScriptedModel())
    with pytest.raises(UsageError) as info:
        await agent.ask(question, actor="ana", role="shift_lead")
    assert info.value.fix
    assert audit.records == []


async def test_tool_error_goes_back_to_the_model_as_a_result(tmp_path: Path) -> None:
    model = ScriptedModel([
        _call("read_tags", tags=["P-101.FlowRate"]),
        {"action": "cannot_answer", "reason": "the server did not answer",
         "needed": "the OPC UA server back online"},
    ])
    agent, _ = _agent(tmp_path, model)
    SERVER_DOWN.append(True)
    try:
        answer = await agent.ask("What does the pump do?", actor="ana", role="shift_lead")
    finally:
        SERVER_DOWN.clear()
    assert answer.steps[0].ok is False
    result = answer.steps[0].result
    assert isinstance(result, ToolFailure) and result.retryable is True
    tool_msg = model.requests[1].history[-1]
    assert tool_msg.role == "tool" and "did not answer" in tool_msg.content
    # A failed result cannot be cited: with no evidence, a final answer can cite nothing.
    assert model.requests[1].schema["oneOf"][-2]["properties"]["citations"]["maxItems"] == 0


class _Watching(MemoryAuditSink):
    """Records which thread appended each record; refuses kinds listed in ``refuse``."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.refuse = refuse
        self.threads: list[str] = []

    def append(self, kind: str, actor: str, payload: dict[str, Any], **extra: Any) -> Any:
        self.threads.append(threading.current_thread().name)
        if kind in self.refuse:
            raise AuditWriteError(f"{kind} not writable (simulated)")
        return super().append(kind, actor, payload, **extra)


async def test_every_model_call_is_audited_off_the_event_loop(tmp_path: Path) -> None:
    model = ScriptedModel([_final("P-101.FlowRate is 42.37 m³/h.", "E1")])
    agent, _ = _agent(tmp_path, model)
    audit = _Watching()
    agent.deps.audit = audit
    await agent.ask("How is the flow of P-101?", actor="ana", role="shift_lead")
    (call,) = [r.payload for r in audit.records if r.kind == "model_call"]
    assert call["purpose"] == "step" and call["model"] == "scripted" and call["output"]
    assert threading.main_thread().name not in audit.threads


async def test_a_model_call_that_cannot_be_audited_is_not_used(tmp_path: Path) -> None:
    model = ScriptedModel([_final("P-101.FlowRate is 42.37 m³/h.", "E1")])
    agent, _ = _agent(tmp_path, model)
    agent.deps.audit = _Watching(refuse=("model_call",))
    with pytest.raises(AuditWriteError):
        await agent.ask("How is the flow of P-101?", actor="ana", role="shift_lead")


async def test_a_value_the_question_asked_for_and_the_draft_left_out_is_added(
    tmp_path: Path,
) -> None:
    model = ScriptedModel([_final("P-101.FlowRate is 42.37 m³/h.", "E1")])
    agent, _ = _agent(tmp_path, model)
    answer = await agent.ask("How are the flow rate and the bearing temp of P-101?", actor="ana",
                             role="shift_lead")
    assert answer.answer == ("P-101.FlowRate is 42.37 m³/h. P-101.BearingTemp is 61.2 °C at "
                             "12:03:04 UTC.")
    assert answer.grounded and answer.written_by == "model+system"
    assert [(r.text, r.by) for r in answer.replaced] == [
        ("", "P-101.BearingTemp is 61.2 °C at 12:03:04 UTC.")]


class LimitArgs(BaseModel):
    pass


@tool()
async def check_limits(ctx: ToolContext, args: LimitArgs) -> LimitCheck:
    """Tags outside their normal range."""
    return LimitCheck(summary="2 outside", checked=2, untrusted=[], without_limits=0, outside=[
        OutOfRange(tag="P-101.FlowRate", value=42.37, unit="m³/h", low=0, high=40.0,
                   side="high"),
        OutOfRange(tag="P-101.BearingTemp", value=61.2, unit="°C", low=0, high=60.0,
                   side="high")])


async def test_every_value_a_limit_check_finds_outside_is_stated(tmp_path: Path) -> None:
    model = ScriptedModel([_final("P-101.FlowRate is 42.37 m³/h, above its high limit of 40 "
                                  "m³/h.", "E1")])
    agent, _ = _agent(tmp_path, model)
    agent.deps.registry.register(check_limits)
    answer = await agent.ask("Which equipment is outside its normal limits?", actor="ana",
                             role="shift_lead")
    assert answer.answer == ("P-101.FlowRate is 42.37 m³/h, above its high limit of 40 m³/h. "
                             "P-101.BearingTemp is 61.2 °C, above its high limit of 60 °C.")
    assert answer.grounded and answer.written_by == "model+system"
