"""The grounding check of handover lines: agent/loop/grounding.py, run per line against
the evidence that line cites (not against the whole shift)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from string import ascii_lowercase

from agent.handover.models import HandoverEvidence, HandoverLine, UnsupportedText
from agent.loop.evidence import Evidence, compact_json
from agent.loop.grounding import check_grounding

# A fault or cause name as triage writes them: lower-case words joined by underscores.
_CAUSE = re.compile(r"(?<![\w-])[a-z]+(?:_[a-z]+)+(?![\w-])")

#: Payload keys that hold the id of a stored record (a triage report, an approval request).
_RECORD_KEYS = ("report", "request")


@dataclass(frozen=True)
class PlantNames:
    """What the check recognises as a tag, an equipment or a unit."""

    tags: Sequence[str]
    equipment: Sequence[str]
    units: Sequence[str]


def as_cited(item: HandoverEvidence) -> Evidence:
    """A handover fact in the form the grounding check reads: its summary and payload."""
    return Evidence(item.id, item.source, {}, item.payload,
                    f"{item.summary} {compact_json(item.payload)}")


@dataclass(frozen=True)
class CheckedLines:
    """Lines with what their evidence does not support marked ``[unverified: ...]``."""

    lines: list[HandoverLine]
    unsupported: list[UnsupportedText]

    @property
    def grounded(self) -> bool:
        """True when nothing is unsupported."""
        return not self.unsupported


def check_lines(
    lines: Sequence[HandoverLine], evidence: Mapping[str, HandoverEvidence], names: PlantNames
) -> CheckedLines:
    """Check every line against its own citations; a line citing nothing is unverified."""
    out: list[HandoverLine] = []
    unsupported: list[UnsupportedText] = []
    for index, line in enumerate(lines):
        cited = [as_cited(evidence[i]) for i in line.citations if i in evidence]
        if not cited:
            unsupported.append(UnsupportedText(line=index, kind="citation", text=line.text,
                                               reason="the line cites no evidence"))
            out.append(line.model_copy(update={"text": f"[unverified: {line.text}]"}))
            continue
        masked, refs = _mask_records(line.text, [evidence[i] for i in line.citations
                                                 if i in evidence])
        report = check_grounding(masked, cited, tag_names=names.tags,
                                 equipment_names=names.equipment, units=names.units)
        unsupported += [UnsupportedText(line=index, kind=c.kind, text=c.text, reason=c.reason)
                        for c in report.unsupported]
        marked = report.marked_answer or masked
        for placeholder, record in refs.items():
            marked = marked.replace(placeholder, record)
        marked, names_unsupported = _check_cause_names(marked, cited)
        unsupported += [u.model_copy(update={"line": index}) for u in names_unsupported]
        out.append(line.model_copy(update={"text": marked}))
    return CheckedLines(out, unsupported)


def _check_cause_names(text: str, cited: Sequence[Evidence]) -> tuple[str, list[UnsupportedText]]:
    """Fault and cause names (snake_case, e.g. conveyor_jam) must be in the cited
    evidence too: the loop's check looks at numbers, units, tags and equipment, and a
    handover line that pins a triage finding on the wrong fact is just as wrong."""
    known = " ".join(e.text for e in cited).lower()
    missing: list[UnsupportedText] = []
    for name in dict.fromkeys(m.group() for m in _CAUSE.finditer(text)):
        if name.lower() not in known:
            missing.append(UnsupportedText(line=0, kind="name", text=name,
                                           reason="no cited evidence names it"))
            text = re.sub(rf"(?<!\[unverified: ){re.escape(name)}", f"[unverified: {name}]",
                          text, count=1)
    return text, missing


def _mask_records(text: str, cited: list[HandoverEvidence]) -> tuple[str, dict[str, str]]:
    """The text with the ids of records its evidence names (TR-20261123-1e1069,
    AP-53f8018b) replaced by placeholders without digits, so the digits inside an id are
    not taken for readings. An id no cited evidence names stays, and is checked."""
    records = {str(e.payload[key]) for e in cited for key in _RECORD_KEYS
               if isinstance(e.payload.get(key), str)}
    refs: dict[str, str] = {}
    for record in sorted(records, key=len, reverse=True)[:len(ascii_lowercase)]:
        if record in text:
            placeholder = f"recordref{ascii_lowercase[len(refs)]}"
            refs[placeholder] = record
            text = text.replace(record, placeholder)
    return text, refs
