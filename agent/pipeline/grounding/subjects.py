"""What a clause is about (its tags and equipment, carried from sentence to sentence) and
which tags a number in it speaks of."""

from __future__ import annotations

from dataclasses import dataclass

from agent.pipeline.grounding.facts import FactBook
from agent.pipeline.grounding.number_claims import same_unit
from agent.pipeline.grounding.text import Clause, Number, PlantNames, best_tags, clause_words


@dataclass
class Subject:
    """What a clause is about: its tags, and the equipment talked about."""

    tags: tuple[str, ...] = ()
    equipment: str | None = None


def resolve_subject(clause: Clause, carried: Subject, book: FactBook,
                    names: PlantNames) -> Subject:
    """What the clause is about: the tags it names; else an equipment it names and the
    quantity its words say; else those words among the tags of the equipment talked
    about so far, or of the evidence; else what the sentence before was about."""
    tags = tuple(dict.fromkeys(m.tag for m in clause.mentions if m.kind == "tag" and m.tag))
    if tags:
        return Subject(tags, tags[-1].split(".", 1)[0])
    words = clause_words(clause.text)
    equipment = [m.equipment for m in clause.mentions if m.kind == "equipment" and m.equipment]
    if equipment:
        candidates = [t for e in dict.fromkeys(equipment) for t in names.tags_of(e)]
        best = best_tags(words, candidates)
        return Subject(tuple(best or candidates), equipment[-1])
    if carried.equipment:
        best = best_tags(words, names.tags_of(carried.equipment))
        if best:
            return Subject(tuple(best), carried.equipment)
    best = best_tags(words, sorted(book.tags()))
    if best:
        return Subject(tuple(best), best[0].split(".", 1)[0] if len(
            {t.split(".", 1)[0] for t in best}) == 1 else None)
    return carried


def number_subject(clause: Clause, number: Number, subject: Subject,
                   names: PlantNames) -> tuple[str, ...]:
    """The tags a number is about: the nearest tag named before it in the clause (or
    after it), else the clause's subject; narrowed to the tags of the number's unit."""
    named = [m for m in clause.mentions if m.kind in ("tag", "condition") and m.tag]
    before = [m for m in named if m.end <= number.start]
    after = [m for m in named if m.start >= number.end]
    tags: tuple[str, ...]
    if before and before[-1].kind == "condition":
        return ()  # a value quoted with an alarm is the alarm's, not a current reading
    if before:
        tags = (before[-1].tag or "",)
    elif after:
        tags = (after[0].tag or "",)
    else:
        tags = subject.tags
    if number.unit and len(tags) > 1:
        same = tuple(t for t in tags if same_unit(names.tag_units.get(t), number.unit))
        if same:
            tags = same
    return tags
