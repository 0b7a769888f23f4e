"""Grounding: what each claim of a text says, checked against the facts of its evidence.

``FactBook`` holds the facts (readings, limits, statistics, trends, times, requested
values, numbers in texts) of typed results; ``check_claims`` checks a text against it;
``facts_sentences`` gives the system's own sentences for facts.
"""

from __future__ import annotations

from agent.pipeline.grounding.check import check_claims
from agent.pipeline.grounding.claims import Claim, GroundingReport
from agent.pipeline.grounding.facts import Fact, FactBook, direction_of
from agent.pipeline.grounding.number_claims import number_matches
from agent.pipeline.grounding.sentences import (
    facts_sentences,
    past_value_sentence,
    reading_sentence,
    value_text,
)
from agent.pipeline.grounding.text import COMMON_UNITS, PlantNames, sentences

__all__ = [
    "COMMON_UNITS",
    "Claim",
    "Fact",
    "FactBook",
    "GroundingReport",
    "PlantNames",
    "check_claims",
    "direction_of",
    "facts_sentences",
    "number_matches",
    "past_value_sentence",
    "reading_sentence",
    "sentences",
    "value_text",
]
