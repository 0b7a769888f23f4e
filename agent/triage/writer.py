"""Report writers: the text of a report from its evidence.

``TemplateWriter`` is deterministic and always available. ``ModelWriter`` asks the local
model for the text and puts it through the same grounding check as any answer; when the
model fails or its text is not grounded, the unsupported parts are marked (or the
template text is used), so triage never depends on the model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from agent.errors import ModelError, ModelOutputError
from agent.llm.base import ChatMessage, ChatModel, astep
from agent.loop.evidence import Evidence as LoopEvidence
from agent.loop.grounding import check_grounding
from agent.prompts import render
from agent.triage.models import TriageReport
from agent.triage.summary_checks import attach_citations, consistency_problems, first_sentences

_SCHEMA = {
    "type": "object",
    # No length bounds: llama.cpp expands them into a grammar too large to parse;
    # max_tokens bounds the text, and a cut-off summary keeps its whole sentences.
    "properties": {"summary": {"type": "string"}},
    "required": ["summary"],
    "additionalProperties": False,
}
#: Enough for three sentences; a small model asked for more restates the findings.
SUMMARY_TOKENS = 160
_SENTENCE_END = re.compile(r"(?<=[.!?])(?:\s*\[[A-Z]+\d+\])*(?=\s|$)")


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
    """The findings the model sees, as few tokens as will do (prompt processing is the
    latency budget of a small model on a few cores): the headline, the evidence for the
    top cause, the other possible causes by name, and the first action or check. The
    Markdown report lists everything else (gaps, all candidates) from the record itself."""
    top = report.candidates[0] if report.candidates else None
    ids = (top.evidence_for[:4] + top.evidence_against[:1]) if top else []
    by_id = {e.id: e for e in report.evidence}
    evidence = [{"id": i, "text": by_id[i].text[:160]} for i in ids if i in by_id]
    if not evidence:  # no cause: the alarms and the gaps are the findings
        evidence = [{"id": e.id, "text": e.text[:160]} for e in report.evidence
                    if e.kind in ("alarm", "gap", "order")][:4]
    data: dict[str, object] = {"headline": headline(report)}
    others = [f"{c.cause} on {c.tag or c.equipment}" for c in report.candidates[1:3]]
    if others:
        data["other_possible_causes"] = others
    data["evidence"] = evidence
    if report.fixes:
        data["first_action"] = report.fixes[0].action
    if report.next_checks and not report.fixes:
        data["check_next"] = report.next_checks[:2]
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def headline(report: TriageReport) -> str:
    """The first sentence of every summary, from the diagnosis itself: a small model
    copies it reliably, and it carries what the summary must not get wrong."""
    top = report.candidates[0] if report.candidates else None
    if report.status == "insufficient_evidence" or top is None:
        return (f"Insufficient evidence to diagnose {report.incident.summary or 'the incident'}"
                ".")
    kind = "a process fault" if top.process_fault else "an instrument fault, not a process fault"
    return f"{top.cause.replace('_', ' ').capitalize()} on {top.tag or top.equipment}: {kind}."


def salvage_summary(text: str) -> str | None:
    """The whole sentences of a summary cut off at ``max_tokens`` (``{"summary": "...``),
    or None when not even one sentence was finished."""
    match = re.match(r'\s*\{\s*"summary"\s*:\s*"', text)
    if match is None:
        return None
    body = text[match.end():]
    # Cut the still-escaped JSON string after its last whole sentence, then decode it:
    # a sentence end never falls inside an escape sequence.
    for m in reversed(list(_SENTENCE_END.finditer(body))):
        try:
            return str(json.loads('"' + body[:m.end()] + '"')).strip()
        except json.JSONDecodeError:
            continue  # the cut fell inside an escaped quote: try an earlier sentence
    return None


class ModelWriter:
    """The local model writes the summary; the grounding check verifies it; the template
    backs it up."""

    def __init__(
        self,
        model: ChatModel,
        *,
        tag_names: Sequence[str] = (),
        equipment_names: Sequence[str] = (),
        plant_name: str = "the plant",
        max_tokens: int = SUMMARY_TOKENS,
    ) -> None:
        self.model = model
        self.tag_names = list(tag_names)
        self.equipment_names = list(equipment_names)
        self.plant_name = plant_name
        self.max_tokens = max_tokens
        self.fallback = TemplateWriter()

    async def write(self, report: TriageReport) -> Written:
        """Model text when the model runs, marked where the evidence does not support it."""
        findings = findings_json(report)
        prompt = render("triage_report.md", plant_name=self.plant_name, findings=findings)
        writer = f"model:{self.model.info.name}"
        try:
            result = await astep(
                self.model, [ChatMessage("system", prompt)],
                [ChatMessage("user", "Write the summary.")], _SCHEMA, max_tokens=self.max_tokens,
            )
            text = str(result.data.get("summary", "")) if isinstance(result.data, dict) else ""
        except ModelOutputError as exc:
            # Constrained output is only invalid when cut off: keep its whole sentences.
            salvaged = salvage_summary(exc.text)
            if salvaged is None:
                fallback = await self.fallback.write(report)
                return Written(fallback.text, f"template (model output cut off at "
                                              f"{self.max_tokens} tokens)")
            text, writer = salvaged, f"{writer} (cut to whole sentences)"
        except ModelError as exc:
            fallback = await self.fallback.write(report)
            return Written(fallback.text, f"template (model failed: {exc.message[:80]})")
        text = first_sentences(text)
        if not text.strip():
            return await self.fallback.write(report)
        problems = consistency_problems(text, report)
        if problems:
            fallback = await self.fallback.write(report)
            return Written(fallback.text, f"template (model summary {'; '.join(problems)})")
        cited = [
            LoopEvidence(e.id, e.kind, {}, e.data, e.text) for e in report.evidence
        ] + [LoopEvidence("F", "findings", {}, json.loads(findings), findings)]
        text = attach_citations(text, cited[:-1], tag_names=self.tag_names,
                                equipment_names=self.equipment_names)
        check = check_grounding(text, cited, tag_names=self.tag_names,
                                equipment_names=self.equipment_names)
        return Written(check.marked_answer or text, writer, check.grounded,
                       tuple(c.text for c in check.unsupported))
