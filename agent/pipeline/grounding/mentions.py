"""The claims of the names, records and times a sentence mentions: each must be in the
cited evidence (an identifier the plant does not have is never supported)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC

from agent.pipeline.grounding.claims import Claim
from agent.pipeline.grounding.facts import FactBook
from agent.pipeline.grounding.text import Mention, PlantNames


def mention_claims(index: int, found: Sequence[Mention], book: FactBook, evidence_text: str,
                   names: PlantNames) -> list[Claim]:
    """The claims of the tags, equipment, records and times sentence ``index`` mentions."""
    out = []
    known = {n.lower() for n in (*names.tags, *names.equipment)}
    for m in found:
        if m.kind in ("tag", "condition") and m.tag:
            ok = m.tag.lower() in book.names or m.tag.lower() in evidence_text \
                or m.text.lower() in evidence_text
            out.append(Claim("tag", m.tag, ok, "" if ok else "no cited evidence mentions it",
                             index, (m.tag,)))
        elif m.kind == "equipment" and m.equipment:
            ok = m.equipment.lower() in book.names or m.equipment.lower() in evidence_text \
                or any(t.lower() in book.names for t in names.members.get(m.equipment, ()))
            out.append(Claim("equipment", m.equipment, ok,
                             "" if ok else "no cited evidence mentions it", index))
        elif m.kind == "unknown" and m.text.lower() not in known:
            ok = m.text.lower() in evidence_text
            out.append(Claim("equipment", m.text, ok, "" if ok else "not in the plant catalog",
                             index))
        elif m.kind == "record":
            ok = m.text.lower() in evidence_text or m.text.lower() in book.names
            out.append(Claim("record", m.text, ok, "" if ok else "no cited record has this id",
                             index))
        elif m.kind == "time":
            ok = _time_supported(m.text, book)
            out.append(Claim("time", m.text, ok, "" if ok else "no cited timestamp says this",
                             index))
    return out


def _time_supported(text: str, book: FactBook) -> bool:
    times = book.of_kind("time", "reading", "stat")
    if re.fullmatch(r"\d{1,2}:\d\d(?::\d\d)?", text):
        parts = text.split(":")
        wanted = tuple(int(p) for p in parts)
        clock = f"{wanted[0]:02d}:{wanted[1]:02d}"
        for fact in times:
            if fact.clock is not None and len(parts) == 2 and fact.clock == clock:
                return True
            if fact.when is None:
                continue
            moment = fact.when.astimezone(UTC)
            got = (moment.hour, moment.minute, moment.second)[:len(parts)]
            if got == wanted:
                return True
        return False
    day = text[:10]
    full = text[11:19] if len(text) >= 16 else ""
    for fact in times:
        if fact.when is None:
            continue
        stamp = fact.when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        if stamp[:10] == day and (not full or stamp[11:11 + len(full)] == full):
            return True
    return False
