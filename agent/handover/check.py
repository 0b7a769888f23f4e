"""The grounding check of handover lines: each line against the facts it cites (not
against the whole shift), claim by claim (agent/pipeline/grounding).

The facts of a handover item come from its source: a value outside its range is a
reading with its limit, a trend a reading with its direction and the limit it heads for,
an approval a requested value and the readings just before and after the write; the rest
gives its numbers, times and names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from string import ascii_lowercase
from typing import Any, Literal

from agent.handover.models import HandoverEvidence, HandoverLine, UnsupportedText
from agent.pipeline.evidence import compact_json
from agent.pipeline.grounding import Fact, FactBook, PlantNames, check_claims

__all__ = ["CheckedLines", "PlantNames", "check_lines", "handover_facts"]

# A fault or cause name as triage writes them: lower-case words joined by underscores.
_CAUSE = re.compile(r"(?<![\w-])[a-z]+(?:_[a-z]+)+(?![\w-])")

#: Payload keys that hold the id of a stored record (a triage report, an approval request).
_RECORD_KEYS = ("report", "request")


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def handover_facts(items: Sequence[HandoverEvidence]) -> FactBook:
    """The facts of handover evidence, by source."""
    book = FactBook()
    for item in items:
        p = item.payload
        tag = p.get("tag") if isinstance(p.get("tag"), str) else None
        unit = p.get("unit") if isinstance(p.get("unit"), str) else None
        if item.source == "out_of_limits" and tag:
            side: Literal["low", "high"] = "high" if p.get("side") == "high" else "low"
            limit = _number(p.get("limit"))
            book.add(Fact("reading", item.id, tag=tag, value=_number(p.get("value")), unit=unit,
                          side=side, low=limit if side == "low" else None,
                          high=limit if side == "high" else None, quality="good"))
            if limit is not None:
                book.add(Fact("limit", item.id, tag=tag, value=limit, unit=unit, side=side))
        elif item.source == "trend" and tag:
            book.add(Fact("reading", item.id, tag=tag, value=_number(p.get("now")), unit=unit))
            direction = {"rising": "up", "falling": "down"}.get(str(p.get("direction")))
            if direction is not None:
                book.add(Fact("trend", item.id, tag=tag, value=_number(p.get("per_hour")),
                              unit=unit, direction=direction))  # type: ignore[arg-type]
            limit = _number(p.get("limit"))
            if limit is not None:
                book.add(Fact("limit", item.id, tag=tag, value=limit, unit=unit,
                              side="high" if p.get("side") == "high" else "low"))
        elif item.source in ("approval", "pending_approval", "write") and tag:
            value = _number(p.get("value"))
            if value is not None:
                book.add(Fact("request", item.id, tag=tag, value=value, unit=unit))
            for key in ("old_value", "read_back"):
                # Read from the plant just before and after the write: readings of the tag.
                past = _number(p.get(key))
                if past is not None:
                    book.add(Fact("reading", item.id, tag=tag, value=past, unit=unit,
                                  name=key))
        book.add_payload(item.id, p)
        book.add_payload(item.id, item.summary)
        book.add_text(f"{item.summary} {compact_json(p)}")
    return book


@dataclass(frozen=True)
class CheckedLines:
    """Lines and the claims of each their evidence does not support."""

    lines: list[HandoverLine]
    unsupported: list[UnsupportedText]

    @property
    def grounded(self) -> bool:
        """True when nothing is unsupported."""
        return not self.unsupported

    def bad_lines(self) -> set[int]:
        """Indexes of the lines with an unsupported claim."""
        return {u.line for u in self.unsupported}


def check_lines(
    lines: Sequence[HandoverLine], evidence: Mapping[str, HandoverEvidence], names: PlantNames
) -> CheckedLines:
    """Check every line against its own citations; a line citing nothing is unsupported.
    Lines are never marked: the writer replaces a line that stays unsupported."""
    unsupported: list[UnsupportedText] = []
    for index, line in enumerate(lines):
        cited = [evidence[i] for i in line.citations if i in evidence]
        if not cited:
            unsupported.append(UnsupportedText(line=index, kind="citation", text=line.text,
                                               reason="the line cites no evidence"))
            continue
        masked = _mask_records(line.text, cited)
        report = check_claims(masked, handover_facts(cited), names)
        unsupported += [UnsupportedText(line=index, kind=c.kind, text=c.text, reason=c.reason)
                        for c in report.unsupported]
        known = " ".join(f"{e.summary} {compact_json(e.payload)}" for e in cited).lower()
        for name in dict.fromkeys(m.group() for m in _CAUSE.finditer(line.text)):
            # Fault and cause names (snake_case, e.g. conveyor_jam) must be in the cited
            # evidence too: a line that pins a triage finding on the wrong fact is wrong.
            if name.lower() not in known:
                unsupported.append(UnsupportedText(line=index, kind="name", text=name,
                                                   reason="no cited evidence names it"))
    return CheckedLines(list(lines), unsupported)


def _mask_records(text: str, cited: list[HandoverEvidence]) -> str:
    """The text with the ids of records its evidence names (TR-20261123-1e1069,
    AP-53f8018b) replaced by words without digits, so the digits inside an id are not
    taken for readings. An id no cited evidence names stays, and is checked."""
    records = {str(e.payload[key]) for e in cited for key in _RECORD_KEYS
               if isinstance(e.payload.get(key), str)}
    for n, record in enumerate(sorted(records, key=len, reverse=True)[:len(ascii_lowercase)]):
        text = text.replace(record, f"recordref{ascii_lowercase[n]}")
    return text
