"""An answer's citations as evidence a person can read: the readings, a series of values
to plot, the quoted document passage.

Built from the answer's own step records (the exact tool results the answer cites), so
what the screen shows is what the grounding check saw.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from agent.loop.answer import AgentAnswer, StepRecord
from agent.service.views import CitationView

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
    result = step.result if isinstance(step.result, dict) else {}
    evidence_id = step.evidence_id or "?"
    call = f"{step.tool}({_args_text(step.args)})"
    if isinstance(result.get("readings"), list):
        readings = [r for r in result["readings"] if isinstance(r, dict)]
        first = next((str(r["tag"]) for r in readings if _number(r.get("value"))), None)
        return CitationView(
            id=evidence_id, tool=step.tool, args=step.args, kind="reading",
            title=f"{call}: {len(readings)} reading(s)",
            lines=tuple(reading_line(r) for r in readings),
            series_tag=first, series=series_of(first) if first else (),
        )
    if isinstance(result.get("summary"), dict) and "points" in result:
        summary = result["summary"]
        points = [p for p in result.get("points") or [] if isinstance(p, dict)]
        series = tuple(float(p["value"]) for p in points if _number(p.get("value")))
        tag = str(summary.get("tag", ""))
        return CitationView(
            id=evidence_id, tool=step.tool, args=step.args, kind="history",
            title=f"{call}: history of {tag}",
            lines=(summary_line(summary),),
            series_tag=tag or None, series=series or series_of(tag),
        )
    if isinstance(result.get("passages"), list):
        passages = [p for p in result["passages"] if isinstance(p, dict)]
        return CitationView(
            id=evidence_id, tool=step.tool, args=step.args, kind="document",
            title=f"{call}: {len(passages)} passage(s)",
            lines=tuple(str(p.get("citation", "")) for p in passages),
            passage="\n\n".join(f"{p.get('citation', '')}\n{p.get('quote', '')}"
                                for p in passages) or None,
        )
    text = json.dumps(step.result, indent=1, ensure_ascii=False, default=str)
    if len(text) > MAX_OTHER_CHARS:
        text = text[:MAX_OTHER_CHARS] + "\n..."
    summary = result.get("summary")
    title = f"{call}: {summary}" if isinstance(summary, str) and summary else call
    return CitationView(id=evidence_id, tool=step.tool, args=step.args, kind="other",
                        title=title, lines=tuple(text.splitlines()))


def reading_line(reading: dict[str, Any]) -> str:
    """'P-101.FlowRate = 42.37 m³/h (normal 20..60) good' and any limit or stale flag."""
    value = reading.get("value")
    shown = format_value(value) if value is not None else "no value"
    unit = f" {reading['unit']}" if reading.get("unit") else ""
    low, high = reading.get("low"), reading.get("high")
    limits = f" (normal {format_value(low)}..{format_value(high)})" if low is not None \
        and high is not None else ""
    flags = [str(reading.get("quality", "?"))]
    if reading.get("stale"):
        flags.append("stale")
    if reading.get("out_of_limits"):
        flags.append(f"{reading['out_of_limits']} limit exceeded")
    return f"{reading.get('tag')} = {shown}{unit}{limits} {', '.join(flags)}"


def summary_line(summary: dict[str, Any]) -> str:
    """'min 1.2, max 3.4, mean 2.0, last 3.1 m³/h over 42 samples'."""
    unit = f" {summary['unit']}" if summary.get("unit") else ""
    parts = [f"{k} {format_value(summary[k])}" for k in ("min", "max", "mean", "last")
             if summary.get(k) is not None]
    return f"{', '.join(parts) or 'no good samples'}{unit} over {summary.get('count', 0)} samples"


def format_value(value: object) -> str:
    """Numbers as a person reads a gauge: at most 4 significant digits, no trailing noise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:.4g}" if abs(value) < 1e6 else f"{value:.3e}"


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _args_text(args: dict[str, Any]) -> str:
    parts = []
    for key, value in args.items():
        shown = ", ".join(map(str, value[:3])) + ("..." if len(value) > 3 else "") \
            if isinstance(value, list) else str(value)
        parts.append(f"{key}={shown}")
    return ", ".join(parts)
