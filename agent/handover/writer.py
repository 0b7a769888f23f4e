"""The model writes the handover lines from the evidence only, through the one grounded
writer (agent/pipeline/writer.py): each line is checked against what it cites; one
redraft; a line still unsupported is replaced by the template's line for the facts it
cites (never shown marked). Every model call is recorded in the audit log.

The prompt is kept short for a 0.5B model on two cores (about 65 tokens/s prompt, 20
tokens/s generation): fixed instructions as the prefix (its evaluated state is kept), the
evidence compacted into the user message up to a token budget. The overview (H1) is the
template's line; facts that did not fit or that no model line cites get their template
line too (see build.py), so nothing is dropped from a handover.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from agent.audit.sink import AuditSink
from agent.errors import ModelOutputError
from agent.handover.check import CheckedLines, PlantNames, check_lines
from agent.handover.models import HandoverEvidence, HandoverLine
from agent.handover.template import template_line
from agent.llm.base import ChatMessage, ChatModel, StepResult
from agent.pipeline.model_calls import ModelCalls
from agent.pipeline.writer import GroundedWriter, Verdict, WritingTask
from agent.prompts import render

#: Evidence tokens the prompt may hold (the instructions take about 170 more).
EVIDENCE_TOKENS = 330
#: Generated tokens for the lines (about 6 lines of 30 tokens, plus the JSON).
MAX_TOKENS = 240
MAX_LINES = 6

_REF = re.compile(r"\s*[\[(]\s*(H\d+(?:\s*,\s*H\d+)*)\s*[\])]")
# A small model may start a line by copying the evidence label ("H2 open_items: ...").
_LABEL = re.compile(r"^\s*\[?(H\d+)\]?(?:\s+\w+)?\s*:\s*")


def lines_schema(ids: Sequence[str]) -> dict[str, Any]:
    """Lines of text, each citing at least one id of the evidence shown (an enum, so the
    model cannot cite what does not exist)."""
    return {
        "type": "object",
        "properties": {"lines": {
            "type": "array", "minItems": 1, "maxItems": MAX_LINES,
            "items": {
                "type": "object",
                # No string length bounds: llama.cpp expands them into a huge grammar.
                "properties": {"text": {"type": "string"},
                               "cite": {"type": "array", "items": {"enum": list(ids)},
                                        "minItems": 1}},
                "required": ["text", "cite"], "additionalProperties": False,
            },
        }},
        "required": ["lines"], "additionalProperties": False,
    }


def fit_evidence(model: ChatModel, evidence: Sequence[HandoverEvidence],
                 budget: int = EVIDENCE_TOKENS) -> list[HandoverEvidence]:
    """The facts the prompt shows, in order, until the token budget is spent."""
    shown: list[HandoverEvidence] = []
    used = 0
    for item in evidence:
        cost = model.count_tokens(prompt_line(item)) + 1
        if used + cost > budget and shown:
            continue  # a shorter later fact may still fit
        shown.append(item)
        used += cost
    return shown


def prompt_line(item: HandoverEvidence) -> str:
    """One fact as the model reads it."""
    return f"[{item.id}] {item.brief or item.summary}"


class LineDraft(BaseModel):
    """One line as the model writes it."""

    text: str
    cite: list[str] = Field(default_factory=list)


class LinesDraft(BaseModel):
    """The model's output: lines, each citing evidence ids."""

    lines: list[LineDraft] = Field(default_factory=list)


def parse_lines(data: object, evidence: dict[str, HandoverEvidence]) -> list[HandoverLine]:
    """The model's lines, with ids written into the text moved into the citations."""
    draft = LinesDraft.model_validate(data if isinstance(data, dict) else {})
    lines = []
    for entry in draft.lines:
        text = entry.text
        cites = [c for c in entry.cite if c in evidence]
        label = _LABEL.match(text)
        if label is not None:
            if label.group(1) in evidence:
                cites.append(label.group(1))
            text = text[label.end():]
        for match in _REF.finditer(text):
            cites += [i.strip() for i in match.group(1).split(",") if i.strip() in evidence]
        text = _REF.sub("", text).strip()
        if not text:
            continue
        cites = list(dict.fromkeys(cites))
        specific = [evidence[i] for i in cites if evidence[i].source != "shift"]
        section = (specific or [evidence[cites[0]]])[0].section if cites else "overview"
        lines.append(HandoverLine(section=section, text=text, citations=cites, writer="model"))
    return lines


def recite(lines: Sequence[HandoverLine], shown: Sequence[HandoverEvidence],
           evidence: dict[str, HandoverEvidence], names: PlantNames,
           ) -> tuple[list[HandoverLine], int]:
    """The lines, each one its citations do not support moved to the one fact shown that
    supports all of it (a small model often writes a fact of the list and cites its
    neighbour); the line is checked again against the fact it now cites. Also the number
    of lines moved."""
    out: list[HandoverLine] = []
    moved = 0
    for line in lines:
        if check_lines([line], evidence, names).grounded:
            out.append(line)
            continue
        fixed = next((c for c in (line.model_copy(update={"citations": [e.id],
                                                          "section": e.section})
                                  for e in shown if e.source != "shift"
                                  and [e.id] != line.citations)
                      if check_lines([c], evidence, names).grounded), None)
        out.append(fixed or line)
        moved += fixed is not None
    return out, moved


def salvage(text: str) -> dict[str, Any]:
    """The complete line objects of an output cut off by the token limit: the JSON
    decoder reads them one by one and stops at the first unfinished one."""
    start = text.find("[", text.find('"lines"'))
    decoder = json.JSONDecoder()
    kept: list[Any] = []
    pos = start + 1 if start >= 0 else len(text)
    while pos < len(text):
        while pos < len(text) and text[pos] in " ,\n\t":
            pos += 1
        try:
            item, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            break
        kept.append(item)
    return {"lines": kept}


@dataclass
class ModelDraft:
    """What the model wrote, checked, and what it cost."""

    checked: CheckedLines
    notes: list[str] = field(default_factory=list)
    steps: list[StepResult] = field(default_factory=list)
    cut_off: list[str] = field(default_factory=list)  # outputs the token limit ended


def _feedback(checked: CheckedLines, lines: Sequence[HandoverLine]) -> str:
    problems: dict[int, list[str]] = {}
    for u in checked.unsupported:
        problems.setdefault(u.line, []).append(u.text if u.kind != "citation" else "no cite")
    parts = [f"line {i + 1} ({', '.join(lines[i].citations) or 'no ids'}): "
             f"{', '.join(dict.fromkeys(texts))}" for i, texts in problems.items()]
    return ("Grounding check: not in the evidence these lines cite: " + "; ".join(parts)
            + ". Rewrite all lines with only what the cited evidence states.")


def grounded_count(lines: Sequence[HandoverLine], verdict: Verdict) -> int:
    """How many of a draft's lines the grounding check supports."""
    bad = verdict.detail.bad_lines() if isinstance(verdict.detail, CheckedLines) else set()
    return len(lines) - len(bad)


def replace_unsupported(lines: Sequence[HandoverLine], checked: CheckedLines,
                        evidence: dict[str, HandoverEvidence]) -> list[HandoverLine]:
    """The lines, each unsupported one replaced by the template's lines for the facts it
    cites (a fact already stated is not stated twice; a line citing nothing is dropped:
    its facts are added by the template where no line covers them)."""
    bad = checked.bad_lines()
    out: list[HandoverLine] = []
    stated: set[str] = set()
    for index, line in enumerate(lines):
        if index not in bad:
            out.append(line)
            continue
        for cited in line.citations:
            if cited in evidence and cited not in stated and evidence[cited].source != "shift":
                out.append(template_line(evidence[cited]))
                stated.add(cited)
    return out


async def write_lines(
    model: ChatModel,
    evidence: Sequence[HandoverEvidence],
    names: PlantNames,
    *,
    plant_name: str,
    progress: Callable[[str], None],
    audit: AuditSink | None = None,
    actor: str = "plantagent",
    role: str | None = None,
) -> ModelDraft:
    """Model lines, checked, redrafted once when unsupported; lines still unsupported are
    replaced by the template's. Raises ModelError when the model cannot run or writes
    nothing usable (the caller falls back to the template). Every model call is recorded
    in ``audit`` as ``actor`` in ``role``."""
    by_id = {e.id: e for e in evidence}
    # The overview (H1) is always the template's line; the model writes about the rest.
    shown = fit_evidence(model, [e for e in evidence if e.source != "shift"])
    overview = by_id["H1"].payload
    prefix = [ChatMessage("system", render("handover.md", plant_name=plant_name))]
    history = [ChatMessage("user", render(
        "handover_evidence.md", since=str(overview["from"]), until=str(overview["to"]),
        evidence="\n".join(prompt_line(e) for e in shown)), pinned=True)]
    progress(f"the model is writing from {len(shown)} facts")
    calls = ModelCalls(model, audit, actor=actor, role=role, purpose="handover")
    cut: list[str] = []
    recited: list[int] = []

    def parse(data: object) -> list[HandoverLine]:
        lines, moved = recite(parse_lines(data, by_id), shown, by_id, names)
        recited.append(moved)
        return lines

    def salvaged(text: str) -> list[HandoverLine] | None:
        kept, moved = recite(parse_lines(salvage(text), by_id), shown, by_id, names)
        recited.append(moved)
        if kept:
            cut.append(f"the model's output was cut off at {MAX_TOKENS} tokens; its "
                       f"{len(kept)} complete line(s) were kept")
        return kept or None

    def check(lines: list[HandoverLine]) -> Verdict:
        if not lines:
            return Verdict(False, ["no usable lines"], CheckedLines([], []))
        checked = check_lines(lines, by_id, names)
        return Verdict(checked.grounded, [u.text for u in checked.unsupported], checked)

    def feedback(lines: list[HandoverLine], verdict: Verdict) -> str:
        progress("redrafting: the grounding check found unsupported claims")
        assert isinstance(verdict.detail, CheckedLines)
        return _feedback(verdict.detail, lines)

    def fallback(lines: list[HandoverLine] | None, verdict: Verdict | None) -> list[HandoverLine]:
        if lines is None or verdict is None or not isinstance(verdict.detail, CheckedLines):
            return []
        return replace_unsupported(lines, verdict.detail, by_id)

    def render_lines(lines: list[HandoverLine]) -> str:
        return json.dumps({"lines": [{"text": line.text, "cite": line.citations}
                                     for line in lines]}, ensure_ascii=False)

    def better(first: list[HandoverLine], v1: Verdict, second: list[HandoverLine],
               v2: Verdict) -> bool:
        # Unsupported lines are replaced by the template's either way, so what a draft
        # brings is its grounded lines: more of them, or as many with fewer unsupported
        # claims. A redraft with fewer claims but no good line is not better.
        kept1, kept2 = grounded_count(first, v1), grounded_count(second, v2)
        return kept2 > kept1 or (kept2 == kept1 and len(v2.problems) <= len(v1.problems))

    task: WritingTask[list[HandoverLine]] = WritingTask(
        schema=lines_schema([e.id for e in shown]), parse=parse, check=check,
        feedback=feedback, fallback=fallback, render=render_lines, salvage=salvaged,
        max_tokens=MAX_TOKENS, better=better)
    written = await GroundedWriter(calls).write(task, prefix, history, purpose="handover")
    if not written.value:
        failed = next((n for n in written.notes if n.startswith("the model failed")), None)
        raise ModelOutputError(failed or "the model wrote no usable lines",
                               text=calls.stats.cut_off[-1] if calls.stats.cut_off else "")
    final = check_lines(written.value, by_id, names)
    notes = [*cut, *(n for n in written.notes if "cut off" not in n)]
    if any(recited):
        notes.append(f"{max(recited)} line(s) cited a neighbouring fact and now cite the "
                     "fact that states them")
    replaced = sum(1 for line in written.value if line.writer == "template")
    if replaced:
        notes.append(f"{replaced} line(s) the model could not ground were replaced by the "
                     "template's")
    return ModelDraft(final, notes, list(calls.stats.results), list(calls.stats.cut_off))
