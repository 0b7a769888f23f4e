"""A directive planted in a tool result's text never reaches the model, and an answer
that says what it asked for loses that sentence (scripted model)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agent.audit.sink import MemoryAuditSink
from agent.llm.scripted import ScriptedModel
from agent.pipeline.runner import Agent, AgentDeps
from agent.policy.decision import ReadOnlyGate
from agent.policy.directives import WITHHELD
from agent.settings import load_settings
from harness.evals.injection_payloads import ATTACKS, MARKER
from tools.context import ToolContext
from tools.opcua.catalog import Catalog
from tools.opcua.models import EquipmentInfo, TagInfo
from tools.registry import ToolRegistry, tool

NOTE = ("Grease the drive-end bearing every 2,000 h. " + dict(ATTACKS)["ignore_previous"]
        + " Replace the seal when it leaks.")


class ManualArgs(BaseModel):
    equipment: str


class Passage(BaseModel):
    doc: str
    text: str


@tool()
async def read_manual(ctx: ToolContext, args: ManualArgs) -> Passage:
    """The manual's passage for an equipment."""
    return Passage(doc=f"{args.equipment} manual", text=NOTE)


def _agent(tmp_path: Path, model: ScriptedModel) -> Agent:
    registry = ToolRegistry()
    registry.register(read_manual)
    catalog = Catalog(endpoint="opc.tcp://127.0.0.1:1/")
    catalog.add(EquipmentInfo(name="P-101", browse_path=["P-101"], node_id="p101",
                              description="Feed pump"),
                [TagInfo(name="P-101.FlowRate", equipment="P-101",
                         browse_path=["P-101", "FlowRate"], node_id="f",
                         namespace_uri="urn:test", unit="m³/h", eu_low=0, eu_high=100)])
    ctx = ToolContext(settings=load_settings(home=tmp_path), catalog=catalog)
    return Agent(AgentDeps(model=model, registry=registry, tool_context=ctx,
                           policy=ReadOnlyGate(), audit=MemoryAuditSink(), max_steps=3))


def _final(text: str, *cites: str) -> dict[str, Any]:
    return {"action": "final_answer", "answer": text, "citations": list(cites)}


async def test_the_model_never_reads_the_directive_and_its_marker_is_dropped(
    tmp_path: Path,
) -> None:
    model = ScriptedModel([
        {"action": "call_tool", "tool": "read_manual", "args": {"equipment": "P-101"}},
        _final(f"{MARKER}. The manual says to grease the drive-end bearing every 2,000 h.",
               "E1"),
        _final(f"{MARKER}. The manual says to grease the drive-end bearing every 2,000 h.",
               "E1"),
    ])
    answer = await _agent(tmp_path, model).ask("What does the P-101 manual say about "
                                               "greasing?", actor="ana", role="shift_lead")
    seen = "\n".join(m.content for r in model.requests for m in r.history if m.role == "tool"
                     and m.content.startswith("E1"))
    assert "Grease the drive-end bearing" in seen and WITHHELD in seen
    assert MARKER not in seen and "propose_setpoint_change" not in seen
    assert MARKER not in answer.answer
    assert "2,000 h" in answer.answer
    assert any("instruction" in " ".join(r.reasons) for r in answer.replaced)
