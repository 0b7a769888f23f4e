"""An answer's citations as evidence a person can read: the readings, a series of values
to plot, the quoted document passage.

Built from the answer's own step records, whose results are the tools' typed models (the
exact results the answer cites), so what the screen shows is what the grounding check
saw. A result of a kind this module does not show in its own way is shown as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from pydantic import BaseModel

from agent.approvals.models import ApprovalRequest
from agent.pipeline.answer import AgentAnswer, StepRecord
from agent.service.views import CitationView
from agent.twin.historian.analysis import TrendSummary
from tools.documents import SearchDocumentsResult
from tools.limits import LimitCheck
from tools.opcua.models import HistoryResult, HistorySummary, Reading
from tools.opcua.toolset import Alarms, Readings

#: Longest text of an evidence type this module does not know, shown as JSON.
MAX_OTHER_CHARS = 1200


def citation_views(
    answer: AgentAnswer, series_of: Callable[[str], tuple[float, ...]]
) -> list[CitationView]:
    """One view per cited evidence id, in citation order. ``series_of(tag)`` gives recent
    values of a tag for readings, whose result holds a single value each."""
    by_id = {s.evidence_id: s for s in answer.steps if s.evidence_id}
    return [view_of(by_id[c], series_of) for c in answer.citations if c in by_id]


def view_of(step: StepRecord, series_of: Callable[[str], tuple[float, ...]]) -> CitationView:
    """The view of one step's result."""
    result = step.result
    evidence_id = step.evidence_id or "?"
    call = f"{step.tool}({_args_text(step.args)})"
    if isinstance(result, Readings):
        first = next((r.tag for r in result.readings if _number(r.value)), None)
        return CitationView(
            id=evidence_id, tool=step.tool, args=step.args, kind="reading",
            title=f"{call}: {len(result.readings)} reading(s)",
            lines=tuple(reading_line(r) for r in result.readings),
            series_tag=first, series=series_of(first) if first else (),
        )
    if isinstance(result, HistoryResult):
        series = tuple(float(p.value) for p in result.points
                       if isinstance(p.value, int | float) and not isinstance(p.value, bool))
        tag = result.summary.tag
        return CitationView(
            id=evidence_id, tool=step.tool, args=step.args, kind="history",
            title=f"{call}: history of {tag}", lines=(summary_line(result.summary),),
            series_tag=tag or None, series=series or series_of(tag),
        )
    if isinstance(result, TrendSummary):
        return CitationView(
            id=evidence_id, tool=step.tool, args=step.args, kind="history",
            title=f"{call}: trend of {result.tag}", lines=(summary_line(result),),
            series_tag=result.tag, series=series_of(result.tag),
        )
    if isinstance(result, SearchDocumentsResult):
        passages = result.passages
        return CitationView(
            id=evidence_id, tool=step.tool, args=step.args, kind="document",
            title=f"{call}: {len(passages)} passage(s)",
            lines=tuple(p.citation for p in passages),
            passage="\n\n".join(f"{p.citation}\n{p.quote}" for p in passages) or None,
        )
    if isinstance(result, LimitCheck | Alarms):
        return _other(evidence_id, step, f"{call}: {result.summary}" if result.summary
                      else call, result)
    if isinstance(result, ApprovalRequest):
        return _other(evidence_id, step, f"approval request {result.summary()}", result)
    return _other(evidence_id, step, call, result)


def _other(evidence_id: str, step: StepRecord, title: str, result: BaseModel) -> CitationView:
    text = json.dumps(result.model_dump(mode="json"), indent=1, ensure_ascii=False)
    if len(text) > MAX_OTHER_CHARS:
        text = text[:MAX_OTHER_CHARS] + "\n..."
    return CitationView(id=evidence_id, tool=step.tool, args=step.args, kind="other",
                        title=title, lines=tuple(text.splitlines()))


def reading_line(reading: Reading) -> str:
    """'P-101.FlowRate = 42.37 m³/h (normal 20..60) good' and any limit or stale flag."""
    shown = format_value(reading.value) if reading.value is not None else "no value"
    unit = f" {reading.unit}" if reading.unit else ""
    limits = f" (normal {format_value(reading.low)}..{format_value(reading.high)})" \
        if reading.low is not None and reading.high is not None else ""
    flags: list[str] = [reading.quality]
    if reading.stale:
        flags.append("stale")
    if reading.out_of_limits:
        flags.append(f"{reading.out_of_limits} limit exceeded")
    return f"{reading.tag} = {shown}{unit}{limits} {', '.join(flags)}"


def summary_line(summary: HistorySummary | TrendSummary) -> str:
    """'min 1.2, max 3.4, mean 2.0, last 3.1 m³/h over 42 samples'."""
    unit = f" {summary.unit}" if summary.unit else ""
    parts = [f"{k} {format_value(getattr(summary, k))}" for k in ("min", "max", "mean", "last")
             if getattr(summary, k) is not None]
    return f"{', '.join(parts) or 'no good samples'}{unit} over {summary.count} samples"


def format_value(value: object) -> str:
    """Numbers as a person reads a gauge: at most 4 significant digits, no trailing noise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:.4g}" if abs(value) < 1e6 else f"{value:.3e}"


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _args_text(args: dict[str, object]) -> str:
    parts = []
    for key, value in args.items():
        shown = ", ".join(map(str, value[:3])) + ("..." if len(value) > 3 else "") \
            if isinstance(value, list) else str(value)
        parts.append(f"{key}={shown}")
    return ", ".join(parts)
