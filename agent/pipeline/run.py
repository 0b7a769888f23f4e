"""The state of one question as it goes through the pipeline, and its audit trail."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from agent.llm.base import ChatMessage
from agent.pipeline.answer import StepRecord, Timings
from agent.pipeline.evidence import Evidence, EvidenceLog, compact_json
from agent.pipeline.grounding import FactBook, PlantNames
from agent.pipeline.model_calls import ModelCalls
from agent.policy.decision import ChangeRequest, PolicyGate
from agent.policy.directives import withhold_directives
from agent.policy.quoting import neutralize_values
from agent.twin.semantics.infer import cached

if TYPE_CHECKING:
    from agent.pipeline.runner import AgentDeps

#: Tool results longer than this are cut for the model; the full result stays evidence.
MAX_RESULT_CHARS = 1800
_ISO_FRACTION = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+(Z|[+-]\d\d:\d\d)?$")


@dataclass(frozen=True)
class QuestionLimits:
    """The gate and budget of one question, as the policy gives them for a role."""

    gate: PolicyGate
    max_steps: int
    time_budget_s: float


class QuestionRun:
    """One question: its evidence, the model's view of it, the audit trail."""

    def __init__(self, deps: AgentDeps, question: str, actor: str, role: str,
                 limits: QuestionLimits) -> None:
        self.deps = deps
        self.limits = limits
        self.question = question
        self.actor = actor
        self.role = role
        self.evidence = EvidenceLog()
        self.steps: list[StepRecord] = []
        self.history: list[ChatMessage] = [ChatMessage("user", question, pinned=True)]
        self.timings = Timings()
        self.calls_seen: dict[str, str] = {}
        #: The model asked again for a call already answered: it has what it can get.
        self.repeated = False
        self.step_tokens = deps.max_step_tokens
        self.failed_requests: set[int] = set()
        self.stopped = False
        self.notes: list[str] = []
        self.asked_tags: list[str] = []
        self.asked_limits = False
        self.change: ChangeRequest | None = None
        self.calls = ModelCalls(deps.model, deps.audit, actor=actor, role=role)

    async def record(self, kind: str, payload: dict[str, Any], **extra: Any) -> None:
        """Append an audit record off the event loop; raises (fail closed) when the
        record cannot be written."""
        await asyncio.to_thread(self.deps.audit.append, kind, self.actor, payload,
                                role=self.role, **extra)

    def add_result(
        self, tool: str, args: BaseModel | None, result: BaseModel, *, ok: bool,
        cite: bool = True,
    ) -> Evidence | None:
        """Record a result as evidence (when citable) and show it to the model."""
        evidence = self.evidence.add(tool, args, result, is_error=not ok) if cite else None
        label = evidence.id if evidence else "refused"
        data = result.model_dump(mode="json")
        # The model sees a compact view with strings defused (OPC UA strings, messages and
        # documents are data, never instructions) and sentences addressed to an AI
        # assistant withheld; the evidence keeps the typed result as it came.
        text = compact_json(neutralize_values(withhold_directives(model_view(data))))
        if len(text) > MAX_RESULT_CHARS:
            text = text[:MAX_RESULT_CHARS] + "...(cut; ask for fewer items)"
        status = "" if ok else " error"
        self.history.append(ChatMessage("tool", f"{label} {tool}{status}: {text}", name=tool))
        self.steps.append(StepRecord(
            evidence_id=evidence.id if evidence and ok else None, tool=tool,
            args=args.model_dump(mode="json") if args is not None else {}, result=result,
            ok=ok))
        return evidence

    def facts(self, ids: list[str] | None = None) -> FactBook:
        """The facts of the usable evidence (of ``ids`` when given)."""
        return facts_of([e for e in self.evidence.usable() if ids is None or e.id in ids])

    def names(self) -> PlantNames:
        """The plant's names for the grounding check."""
        return self.deps.names()

    def now(self) -> datetime:
        """The tools' clock."""
        return self.deps.tool_context.clock()


def facts_of(evidence: list[Evidence]) -> FactBook:
    """The facts of typed evidence."""
    book = FactBook()
    for item in evidence:
        book.add_model(item.id, item.result, item.args)
        book.add_text(item.text)
    return book


def plant_names(deps: AgentDeps) -> PlantNames:
    """Tags, equipment and units of the catalog, for the grounding check."""
    catalog = deps.catalog
    units = {n: catalog.tag(n).unit for n in catalog.tag_names()}
    semantics = cached(catalog)
    grouped = {e.name: tuple(e.tags) for e in semantics.equipment.values()
               if e.name not in catalog.equipment}
    return PlantNames(tuple(catalog.tag_names()),
                      tuple(catalog.equipment_names()) + tuple(grouped),
                      tuple(sorted({u for u in units.values() if u})), units, grouped)


def model_view(value: Any) -> Any:
    """The compact form of a result the model reads: no nulls, no false flags, floats
    rounded to what a reading means, timestamps to the second, a server timestamp that
    repeats the source timestamp dropped. The evidence keeps the exact result."""
    if isinstance(value, dict):
        out = {k: model_view(v) for k, v in value.items() if v is not None and v is not False}
        if out.get("server_timestamp") == out.get("source_timestamp"):
            out.pop("server_timestamp", None)
        return out
    if isinstance(value, list):
        return [model_view(v) for v in value]
    if isinstance(value, float):
        return round(value, 2) if abs(value) >= 1 else float(f"{value:.3g}")
    if isinstance(value, str):
        match = _ISO_FRACTION.match(value)
        if match:
            return match.group(1) + (match.group(2) or "")
    return value
