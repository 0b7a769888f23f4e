"""Report writers: the text of a report from its evidence.

``TemplateWriter`` is deterministic and always available. ``ModelWriter`` asks the local
model for the text and puts it through the same grounding check as any answer; when the
model fails or its text is not grounded, the unsupported parts are marked (or the
template text is used), so triage never depends on the model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from agent.errors import ModelError, ModelOutputError
from agent.llm.base import ChatMessage, ChatModel, astep
from agent.loop.evidence import Evidence as LoopEvidence
from agent.loop.grounding import check_grounding
from agent.prompts import render
from agent.triage.models import TriageReport

_SCHEMA = {
    "type": "object",
    # No length bounds: llama.cpp expands them into a grammar too large to parse;
    # max_tokens bounds the text instead.
    "properties": {"text": {"type": "string"}},
    "required": ["text"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Written:
    """A report text and how it was made."""

    text: str
    writer: str
    grounded: bool = True
    unverified: tuple[str, ...] = ()


class ReportWriter(Protocol):
    """Anything that turns a report's findings into text."""

    async def write(self, report: TriageReport) -> Written:
        """The text of ``report`` (its fields are filled, its text is empty)."""
        ...


class TemplateWriter:
    """Deterministic text: the top causes with their evidence ids."""

    async def write(self, report: TriageReport) -> Written:
        """Sentences built from the candidates, gaps and next checks."""
        inc = report.incident
        lines = [f"Incident: {inc.summary or inc.kind}."]
        if inc.first_out is not None and inc.kind == "flood":
            lines.append(f"First-out alarm: {inc.first_out.condition}.")
        if report.status == "insufficient_evidence":
            lines.append("Insufficient evidence for a diagnosis.")
        for c in report.candidates[:3]:
            kind = "instrument fault" if not c.process_fault else "process fault"
            refs = "".join(f"[{i}]" for i in c.evidence_for[:4])
            against = "".join(f"[{i}]" for i in c.evidence_against[:3])
            line = (f"Candidate: {c.cause} on {c.tag or c.equipment} ({kind}), "
                    f"confidence {c.confidence:.2f} {refs}")
            if against:
                line += f"; against {against}"
            lines.append(line + ".")
        if report.causal_order:
            lines.append(f"First to leave its normal band: {report.causal_order[0]}.")
        for gap in report.not_checked:
            lines.append(f"Could not check: {gap}.")
        if report.next_checks:
            lines.append("Check next: " + "; ".join(report.next_checks) + ".")
        return Written(" ".join(lines), "template")


def findings_json(report: TriageReport) -> str:
    """The findings the model sees, compact (a small model has a small context): the top
    causes, the evidence they cite, alarms, order, gaps and next checks."""
    top = report.candidates[:3]
    cited = {i for c in top for i in c.evidence_for + c.evidence_against}
    evidence = [{"id": e.id, "text": e.text[:200]} for e in report.evidence
                if e.id in cited or e.kind in ("alarm", "order", "incident", "runbook")][:14]
    data = {
        "incident": report.incident.summary, "status": report.status,
        "causes": [{"cause": c.cause, "on": c.tag or c.equipment, "process_fault":
                    c.process_fault, "confidence": c.confidence, "for": c.evidence_for[:4],
                    "against": c.evidence_against[:3]} for c in top],
        "evidence": evidence, "not_checked": report.not_checked[:4],
        "check_next": report.next_checks[:4],
        "fixes": [f.action for f in report.fixes],
    }
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


class ModelWriter:
    """The local model writes; the grounding check verifies; the template backs it up."""

    def __init__(
        self,
        model: ChatModel,
        *,
        tag_names: Sequence[str] = (),
        equipment_names: Sequence[str] = (),
        plant_name: str = "the plant",
        max_tokens: int = 400,
    ) -> None:
        self.model = model
        self.tag_names = list(tag_names)
        self.equipment_names = list(equipment_names)
        self.plant_name = plant_name
        self.max_tokens = max_tokens
        self.fallback = TemplateWriter()

    async def write(self, report: TriageReport) -> Written:
        """Model text when the model runs, marked where the evidence does not support it."""
        prompt = render("triage_report.md", plant_name=self.plant_name,
                        findings=findings_json(report))
        result = None
        budget = self.max_tokens
        for _attempt in range(2):
            try:
                result = await astep(
                    self.model, [ChatMessage("system", prompt)],
                    [ChatMessage("user", "Write the report.")], _SCHEMA, max_tokens=budget,
                )
                break
            except ModelOutputError:
                # Constrained output is only invalid when cut off: once more, with room.
                budget *= 2
            except ModelError as exc:
                fallback = await self.fallback.write(report)
                return Written(fallback.text, f"template (model failed: {exc.message[:80]})")
        if result is None:
            fallback = await self.fallback.write(report)
            return Written(fallback.text, f"template (model output cut off at {budget // 2} "
                                          "tokens)")
        text = str(result.data.get("text", "")) if isinstance(result.data, dict) else ""
        if not text.strip():
            return await self.fallback.write(report)
        cited = [
            LoopEvidence(e.id, e.kind, {}, e.data, e.text) for e in report.evidence
        ] + [LoopEvidence("F", "findings", {}, json.loads(findings_json(report)),
                          findings_json(report))]
        check = check_grounding(text, cited, tag_names=self.tag_names,
                                equipment_names=self.equipment_names)
        return Written(
            check.marked_answer or text, f"model:{self.model.info.name}", check.grounded,
            tuple(c.text for c in check.unsupported),
        )
