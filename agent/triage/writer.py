"""Report writers: the text of a report from its evidence.

``TemplateWriter`` is deterministic and always available. ``ModelWriter`` has the local
model write the summary through the one grounded writer (agent/pipeline/writer.py): the
summary is checked against the diagnosis and, claim by claim, against the evidence; one
redraft; then the template's text. A summary is never shown marked, and every model
call is recorded in the audit log when the playbook has one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel

from agent.audit.sink import AuditSink
from agent.llm.base import ChatMessage, ChatModel
from agent.pipeline.grounding import PlantNames, check_claims
from agent.pipeline.model_calls import ModelCalls
from agent.pipeline.writer import GroundedWriter, Verdict, WritingTask
from agent.prompts import render
from agent.triage.models import TriageReport
from agent.triage.summary_checks import (
    attach_citations,
    consistency_problems,
    first_sentences,
    triage_facts,
)

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

    async def write(self, report: TriageReport, *, audit: AuditSink | None = None) -> Written:
        """The text of ``report`` (its fields are filled, its text is empty); model calls
        are recorded in ``audit``."""
        ...


class TemplateWriter:
    """Deterministic text: the top causes with their evidence ids."""

    async def write(self, report: TriageReport, *, audit: AuditSink | None = None) -> Written:
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


class Summary(BaseModel):
    """The model's output: the summary text."""

    summary: str


class ModelWriter:
    """The local model writes the summary; the grounded writer checks it (diagnosis and
    evidence), sends it back once, and falls back to the template."""

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
        self.names = PlantNames(tuple(tag_names), tuple(equipment_names))
        self.plant_name = plant_name
        self.max_tokens = max_tokens
        self.fallback = TemplateWriter()

    async def write(self, report: TriageReport, *, audit: AuditSink | None = None) -> Written:
        """The model's checked summary, or the template's text."""
        findings = findings_json(report)
        template = (await self.fallback.write(report)).text
        salvaged: list[str] = []

        def parse(data: object) -> str:
            text = first_sentences(Summary.model_validate(data).summary)
            return attach_citations(text, report.evidence, names=self.names)

        def salvage(text: str) -> str | None:
            kept = salvage_summary(text)
            if kept is None:
                return None
            salvaged.append(kept)
            return attach_citations(first_sentences(kept), report.evidence, names=self.names)

        def check(text: str) -> Verdict:
            if not text.strip():
                return Verdict(False, ["the summary is empty"])
            problems = consistency_problems(text, report)
            book = triage_facts(report.evidence, json.loads(findings))
            grounding = check_claims(text, book, self.names)
            problems += [f"{c.text}: {c.reason}" if c.reason else c.text
                         for c in grounding.unsupported]
            return Verdict(not problems, list(dict.fromkeys(problems)), grounding)

        def feedback(text: str, verdict: Verdict) -> str:
            return (f"Check: the summary is wrong: {'; '.join(verdict.problems[:5])}. Write "
                    "it again from the findings only, beginning with the headline.")

        task: WritingTask[str] = WritingTask(
            schema=_SCHEMA, parse=parse, check=check, feedback=feedback,
            fallback=lambda _text, _verdict: template,
            render=lambda text: json.dumps({"summary": text}, ensure_ascii=False),
            salvage=salvage, max_tokens=self.max_tokens)
        prompt = render("triage_report.md", plant_name=self.plant_name, findings=findings)
        calls = ModelCalls(self.model, audit, actor="triage", role="triage_service",
                           purpose="triage_summary")
        written = await GroundedWriter(calls).write(
            task, [ChatMessage("system", prompt)], [ChatMessage("user", "Write the summary.")])
        name = f"model:{self.model.info.name}"
        if written.outcome in ("model", "redrafted"):
            if salvaged and written.outcome == "model":
                name += " (cut to whole sentences)"
            elif written.outcome == "redrafted":
                name += " (redrafted once)"
            return Written(written.value, name)
        if written.verdict is not None:
            problems = "; ".join(written.verdict.problems[:3])
            return Written(template, f"template (model summary {problems})")
        if calls.stats.cut_off:
            return Written(template, f"template (model output cut off at {self.max_tokens} "
                                     "tokens)")
        note = written.notes[0] if written.notes else "the model wrote nothing usable"
        failed = re.match(r"the model failed \((.*)\);", note)
        return Written(template, f"template (model failed: {failed.group(1)[:80]})"
                       if failed else f"template ({note[:100]})")
