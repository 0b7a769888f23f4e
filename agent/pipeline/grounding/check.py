"""The grounding check: every claim of an answer against the facts of its evidence, by
what the claim says.

- a number stated as a tag's current value must be a reading of that tag (not a limit,
  a proposal, a manual or a past incident), in the tag's unit;
- a range or limit must be a limit (of that tag, when the evidence has its limits; a
  manual's number may state a limit);
- a maximum, mean or past value must come from that tag's history or readings;
- a requested value from a request; a time from a timestamp; a duration from any number;
- "inside/outside/above/below its range" must agree with the value and the range it
  speaks of; "rising/falling/steady" with the trend of that tag's history;
- every tag and equipment named must be in the evidence; an identifier the plant does
  not have is never supported.

The check is deterministic and conservative; what it cannot support is listed per
sentence, so the writer can send the draft back or replace those sentences.
"""

from __future__ import annotations

from agent.pipeline.grounding.claims import GroundingReport
from agent.pipeline.grounding.facts import FactBook
from agent.pipeline.grounding.mentions import mention_claims
from agent.pipeline.grounding.number_claims import check_number
from agent.pipeline.grounding.relations import relation_claims
from agent.pipeline.grounding.subjects import Subject, number_subject, resolve_subject
from agent.pipeline.grounding.text import PlantNames, parse


def check_claims(text: str, book: FactBook, names: PlantNames) -> GroundingReport:
    """Check ``text`` against ``book`` (the facts of the evidence it cites)."""
    parsed = parse(text, names)
    report = GroundingReport([], parsed)
    evidence_text = book.text()
    carried = Subject()
    for index, sentence in enumerate(parsed):
        subjects: set[str] = set()
        report.claims += mention_claims(index, sentence.mentions, book, evidence_text, names)
        for clause in sentence.clauses:
            carried = resolve_subject(clause, carried, book, names)
            subjects |= set(carried.tags)
            for number in clause.numbers:
                tags = number_subject(clause, number, carried, names)
                report.claims += check_number(index, number, tags, book, evidence_text, names)
            report.claims += relation_claims(index, clause, carried, book)
        report.subjects.append(tuple(sorted(subjects)))
    return report
