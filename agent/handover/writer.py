"""The model writes the handover lines from the evidence only; the grounding check verifies
each line against what it cites; one redraft; then what is still unsupported is marked.

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

from agent.errors import ModelError, ModelOutputError
from agent.handover.check import CheckedLines, PlantNames, check_lines
from agent.handover.models import HandoverEvidence, HandoverLine
from agent.llm.base import ChatMessage, ChatModel, StepResult, astep
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


def parse_lines(data: object, evidence: dict[str, HandoverEvidence]) -> list[HandoverLine]:
    """The model's lines, with ids written into the text moved into the citations."""
    raw = data.get("lines", []) if isinstance(data, dict) else []
    lines = []
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, dict):
            continue
        text = str(entry.get("text", ""))
        cites = [str(c) for c in entry.get("cite", []) if str(c) in evidence]
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


async def write_lines(
    model: ChatModel,
    evidence: Sequence[HandoverEvidence],
    names: PlantNames,
    *,
    plant_name: str,
    progress: Callable[[str], None],
) -> ModelDraft:
    """Model lines, checked, redrafted once when unsupported, then marked. Raises
    ModelError when the model cannot run or its output is unusable (the caller falls
    back to the template)."""
    by_id = {e.id: e for e in evidence}
    # The overview (H1) is always the template's line; the model writes about the rest.
    shown = fit_evidence(model, [e for e in evidence if e.source != "shift"])
    overview = by_id["H1"].payload
    prefix = [ChatMessage("system", render("handover.md", plant_name=plant_name))]
    history = [ChatMessage("user", render(
        "handover_evidence.md", since=str(overview["from"]), until=str(overview["to"]),
        evidence="\n".join(prompt_line(e) for e in shown)), pinned=True)]
    schema = lines_schema([e.id for e in shown])
    progress(f"the model is writing from {len(shown)} facts")
    draft = ModelDraft(CheckedLines([], []))
    first_text, first_data = await _step(model, prefix, history, schema, draft)
    lines = parse_lines(first_data, by_id)
    if not lines:
        raise ModelOutputError("the model wrote no usable lines", text=first_text)
    draft.checked = check_lines(lines, by_id, names)
    if draft.checked.grounded:
        return draft
    progress("redrafting: the grounding check found unsupported claims")
    history += [ChatMessage("assistant", first_text),
                ChatMessage("user", _feedback(draft.checked, lines))]
    try:
        _second_text, second_data = await _step(model, prefix, history, schema, draft)
    except ModelError as exc:
        draft.notes.append(f"redraft failed ({exc.message[:80]}); first draft kept, marked")
        return draft
    relines = parse_lines(second_data, by_id)
    rechecked = check_lines(relines, by_id, names) if relines else None
    # The redraft replaces the draft when it is better: fewer unsupported claims, or as
    # few and no fewer lines (a redraft that only drops good lines is not better).
    if rechecked is not None and (
        len(rechecked.unsupported) < len(draft.checked.unsupported)
        or (len(rechecked.unsupported) == len(draft.checked.unsupported)
            and len(rechecked.lines) >= len(draft.checked.lines))
    ):
        draft.checked = rechecked
        draft.notes.append("redrafted once after the grounding check")
    else:
        draft.notes.append("the redraft was no better; first draft kept, marked")
    return draft


async def _step(model: ChatModel, prefix: list[ChatMessage], history: list[ChatMessage],
                schema: dict[str, Any], draft: ModelDraft) -> tuple[str, object]:
    """(text, parsed data) of one step; an output cut off by the token limit keeps its
    complete lines (a small model writes long lines, and a retry costs as much again)."""
    try:
        result = await astep(model, prefix, history, schema, max_tokens=MAX_TOKENS)
    except ModelOutputError as exc:
        kept = salvage(exc.text)
        if not kept["lines"]:
            raise
        draft.cut_off.append(exc.text)
        draft.notes.append(f"the model's output was cut off at {MAX_TOKENS} tokens; its "
                           f"{len(kept['lines'])} complete line(s) were kept")
        return exc.text, kept
    draft.steps.append(result)
    return result.text, result.data

