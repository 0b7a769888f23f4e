"""Facts of a shift from the audit log: incidents the triage service raised, writes made
to the plant, and the questions people asked (counted, with their topics, never their
full text)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from agent.audit.records import AuditRecord
from agent.handover.evidence import MAX_PER_KIND, Fact, clock_time


def incident_facts(records: Sequence[AuditRecord]) -> list[Fact]:
    """One fact per incident the triage service raised (kind "alarm" records), first
    sighting first; the same incident audited on several passes counts once."""
    seen: dict[str, tuple[AuditRecord, int]] = {}
    for rec in records:
        key = str(rec.payload.get("incident") or rec.seq)
        first, passes = seen.get(key, (rec, 0))
        seen[key] = (first, passes + 1)
    facts = []
    for key, (rec, _passes) in list(seen.items())[:MAX_PER_KIND]:
        p = rec.payload
        equipment = [str(e) for e in _list(p.get("equipment"))]
        raw = p.get("alarms")
        alarms = raw if isinstance(raw, int) else 0
        kind = str(p.get("kind") or "alarm")
        text = f"{kind} incident at {clock_time(rec.ts)} on {', '.join(equipment) or 'unknown'}"
        if alarms:
            text += f": {alarms} alarm(s)"
        if p.get("first_out"):
            text += f", first out {p['first_out']}"
        flapping = [str(f) for f in _list(p.get("flapping"))]
        if flapping:
            text += f", flapping {', '.join(flapping)}"
        facts.append(Fact("incident", text, {
            "incident": key, "kind": kind, "at": clock_time(rec.ts), "equipment": equipment,
            "alarms": alarms, "first_out": p.get("first_out"), "flapping": flapping,
        }, brief=f"{kind} incident on {', '.join(equipment) or 'unknown'} at {clock_time(rec.ts)}"))
    return facts


def write_facts(records: Sequence[AuditRecord], covered: set[str]) -> list[Fact]:
    """Writes to the plant (the executor's "plant_write" results and failures) whose
    approval request is not already a fact (``covered`` request ids)."""
    facts = []
    for rec in records:
        p = rec.payload
        if p.get("event") not in ("plant_write", "plant_write_failed"):
            continue
        if rec.kind == "tool_call" or str(p.get("request")) in covered:
            continue  # the call record announces the write; its result says how it went
        tag = str(p.get("tag", "?"))
        if p.get("event") == "plant_write_failed":
            text = (f"write of {tag} by {rec.actor} at {clock_time(rec.ts)} failed: "
                    f"{str(p.get('detail', ''))[:120]}")
        else:
            text = (f"{tag} written by {rec.actor} at {clock_time(rec.ts)}: "
                    f"{p.get('old_value')} -> {p.get('value')}, read back {p.get('read_back')}")
        brief = (f"write of {tag} failed" if p.get("event") == "plant_write_failed"
                 else f"{tag} written: {p.get('old_value')} -> {p.get('value')}")
        facts.append(Fact("write", text, brief=brief, payload={
            "request": p.get("request"), "tag": tag, "by": rec.actor, "at": clock_time(rec.ts),
            "old_value": p.get("old_value"), "value": p.get("value"),
            "read_back": p.get("read_back"), "ok": p.get("ok", False),
        }))
    return facts[:MAX_PER_KIND]


def question_facts(
    questions: Sequence[AuditRecord], answers: Sequence[AuditRecord],
    equipment_names: Sequence[str],
) -> list[Fact]:
    """One fact: how many questions, from whom, about which equipment, how they ended."""
    if not questions:
        return []
    people = Counter(rec.actor for rec in questions)
    topics: Counter[str] = Counter()
    for rec in questions:
        text = str(rec.payload.get("question", ""))
        for name in equipment_names:
            if re.search(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", text, re.IGNORECASE):
                topics[name] += 1
    final = [a for a in answers if not a.payload.get("redraft")]
    outcomes = Counter(str(a.payload.get("outcome", "answered")) for a in final)
    ungrounded = sum(1 for a in final if a.payload.get("outcome") == "answered"
                     and a.payload.get("grounded") is False)
    text = (f"{len(questions)} question(s) from {len(people)} person(s) "
            f"({', '.join(sorted(people))})")
    if topics:
        text += "; about " + ", ".join(f"{n} ({c})" for n, c in topics.most_common(6))
    text += f"; {outcomes.get('answered', 0)} answered"
    if ungrounded:
        text += f" ({ungrounded} not fully grounded)"
    if outcomes.get("cannot_answer"):
        text += f", {outcomes['cannot_answer']} could not be answered"
    payload: dict[str, Any] = {
        "questions": len(questions), "people": sorted(people),
        "topics": dict(topics.most_common(6)), "answered": outcomes.get("answered", 0),
        "not_grounded": ungrounded, "cannot_answer": outcomes.get("cannot_answer", 0),
        "budget_exhausted": outcomes.get("budget_exhausted", 0),
    }
    brief = f"{len(questions)} question(s) from {len(people)} person(s)"
    if topics:
        brief += f" about {', '.join(n for n, _ in topics.most_common(4))}"
    return [Fact("questions", text, payload, brief=brief)]


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []
