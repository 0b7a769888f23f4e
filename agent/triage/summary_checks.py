"""Checks of a model-written triage summary beyond number grounding.

A 0.5B model copies numbers faithfully but mixes up what they mean: it calls a stuck
transmitter "a process fault" or names no equipment at all. The grounding check cannot see
that, so these checks compare the summary with the deterministic diagnosis it summarises;
a summary that contradicts it goes back to the model once, then the template's text is
used. Citations the model left out are attached by the system where one evidence item
holds every fact of a sentence. ``triage_facts`` gives the grounding check the facts of
triage evidence by kind (a snapshot's readings, a history's last value and direction).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from agent.pipeline.grounding import Fact, FactBook, PlantNames, check_claims
from agent.triage.models import Evidence, TriageReport

MAX_SENTENCES = 3
_SENTENCE = re.compile(r".+?(?:[.!?](?:\s*\[[A-Z]+\d+\])*(?=\s|$)|$)", re.DOTALL)
_CITATION = re.compile(r"\[[A-Z]+\d+\]")
#: Nothing has been done when triage reports: a summary saying otherwise invents history.
_DONE = re.compile(
    r"\b(?:was|were|has been|have been|got)\s+(?:\w+\s+)?(?:performed|replaced|resolved|"
    r"fixed|repaired|cleaned|checked|inspected|restored|cleared|recalibrated|done)\b"
    r"|\b(?:resolved|fixed|repaired) the\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(?:not|no|rather than|instead of|never)\s+(?:an?\s+|the\s+)?$")


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, each with the citations that follow it."""
    return [m.group().strip() for m in _SENTENCE.finditer(text) if m.group().strip()]


def first_sentences(text: str, limit: int = MAX_SENTENCES) -> str:
    """At most ``limit`` sentences: the prompt asks for three; more restate the findings."""
    return " ".join(split_sentences(text)[:limit])


def triage_facts(evidence: Sequence[Evidence], extra: dict[str, Any] | None = None
                 ) -> FactBook:
    """The facts of triage evidence, by kind: a snapshot holds readings, a history the
    last value, its baseline and its direction; the rest gives numbers and times.
    ``extra``: more data to count as plain numbers (the findings the model read)."""
    book = FactBook()
    for item in evidence:
        _add(book, item)
    if extra is not None:
        book.add_payload("F", extra)
    return book


_DIRECTIONS = {"up": "up", "down": "down", "flat": "flat", "frozen": "flat"}


def _add(book: FactBook, item: Evidence) -> None:
    data = item.data
    if item.kind == "snapshot":
        for tag, value in data.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                book.add(Fact("reading", item.id, tag=tag, value=float(value)))
    elif item.kind == "history" and isinstance(data.get("tag"), str):
        tag = str(data["tag"])
        last, base, recent = data.get("last"), data.get("baseline"), data.get("recent")
        if isinstance(last, int | float):
            book.add(Fact("reading", item.id, tag=tag, value=float(last), name="last"))
        for name, value in (("baseline", base), ("recent", recent), ("last", last)):
            if isinstance(value, int | float):
                book.add(Fact("stat", item.id, tag=tag, value=float(value), name=name))
        if isinstance(last, int | float) and isinstance(base, int | float):
            # "a speed 5.36 m/s down on its baseline": the last value less the baseline.
            book.add(Fact("stat", item.id, tag=tag, value=float(last) - float(base),
                          name="change"))
        direction = _DIRECTIONS.get(str(data.get("direction")))
        if direction is not None:
            book.add(Fact("trend", item.id, tag=tag, value=0.0,
                          direction=direction))  # type: ignore[arg-type]
    book.add_payload(item.id, data)
    book.add_payload(item.id, item.text)
    book.add_text(item.text)


def attach_citations(
    text: str, evidence: Sequence[Evidence], *, names: PlantNames,
) -> str:
    """Append ``[id]`` to each sentence that states facts but cites nothing, when one
    evidence item supports every fact of the sentence (at most two ids)."""
    out = []
    for sentence in split_sentences(text):
        if not _CITATION.search(sentence):
            ids = _covering_ids(sentence, evidence, names)
            if ids:
                body, end = (sentence[:-1], sentence[-1]) if sentence[-1] in ".!?" else (
                    sentence, "")
                sentence = f"{body} {''.join(f'[{i}]' for i in ids)}{end}"
        out.append(sentence)
    return " ".join(out)


def _covering_ids(
    sentence: str, evidence: Sequence[Evidence], names: PlantNames, most: int = 3,
) -> list[str]:
    """The fewest evidence ids (greedy, at most ``most``) that together support every
    fact of ``sentence``; empty when they cannot."""
    support: dict[str, set[str]] = {}
    wanted: set[str] = set()
    for item in evidence:
        check = check_claims(sentence, triage_facts([item]), names)
        wanted |= {c.kind + c.text for c in check.claims}
        support[item.id] = {c.kind + c.text for c in check.claims if c.supported}
    chosen: list[str] = []
    left = set(wanted)
    while left and len(chosen) < most:
        best = max(support, key=lambda i: len(support[i] & left), default=None)
        if best is None or not support[best] & left:
            return []
        chosen.append(best)
        left -= support.pop(best)
    return chosen if wanted and not left else []


def _unnegated(text: str, phrase: str) -> bool:
    """True when ``phrase`` occurs in ``text`` without a negation shortly before it."""
    lowered = text.lower()
    return any(not _NEGATION.search(lowered[max(0, m.start() - 20):m.start()])
               for m in re.finditer(re.escape(phrase), lowered))


def consistency_problems(text: str, report: TriageReport) -> list[str]:
    """Where the summary contradicts the diagnosis (empty when it does not)."""
    problems: list[str] = []
    lowered = text.lower()
    if _DONE.search(text):
        problems.append("claims work was done (triage changes nothing)")
    top = report.candidates[0] if report.candidates else None
    if report.status == "insufficient_evidence":
        if not re.search(r"insufficient|not enough|unclear|cannot (?:yet )?(?:tell|say)",
                         lowered):
            problems.append("does not say the evidence is insufficient")
        return problems
    if top is None:
        return problems
    names = [n.lower() for n in (top.equipment, top.tag) if n]
    if not any(n in lowered for n in names):
        problems.append(f"does not name {top.tag or top.equipment}")
    words = [w for w in re.split(r"[_\s/]+", top.cause.lower()) if len(w) > 3]
    if words and not any(w in lowered for w in words):
        problems.append(f"does not name the cause ({top.cause})")
    if top.process_fault:
        for phrase in ("instrument fault", "sensor fault"):
            if _unnegated(text, phrase):
                problems.append(f"calls a process fault a {phrase}")
    elif _unnegated(text, "process fault"):
        problems.append("calls an instrument fault a process fault")
    return problems
