"""What one question costs a model, in tokens: the prompt tokens run through it (beyond
the cached system prompt) and the tokens it generates, over all the steps of a question.

From the site's own qualification runs when they recorded it (every ask-suite question
of every run in ``$PLANTAGENT_HOME/qualification/history.jsonl``), else the figures shipped
below. Tokens, not seconds: the same questions cost about the same tokens on models of
one family, and seconds follow from each model's speed measured on this machine.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from agent.qualification.store import QualificationStore

#: Fewest measured questions the site's own figures need to replace the shipped ones.
MIN_QUESTIONS = 5


@dataclass(frozen=True)
class QuestionCost:
    """Tokens of one question over all its steps."""

    prompt_tokens: float
    gen_tokens: float


@dataclass(frozen=True)
class CostProfile:
    """A typical question (median) and a demanding one (90th percentile), and where the
    figures come from."""

    typical: QuestionCost
    demanding: QuestionCost
    questions: int
    source: str


#: Shipped figures: the 10 questions the model took part in of a full `plantagent models
#: qualify` of the default model on the demo plant (2026-12-04, 1 thread; prompt tokens
#: 64 to 1,460 (the first question evaluates the cold system prompt), generated 25 to 95),
#: by :func:`profile_from`, rounded.
SHIPPED = CostProfile(
    typical=QuestionCost(prompt_tokens=180, gen_tokens=50),
    demanding=QuestionCost(prompt_tokens=840, gen_tokens=60),
    questions=10,
    source="shipped figures (the default model's full qualification run on the demo plant)",
)


def _p90(values: list[float]) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def profile_from(prompt: list[float], gen: list[float], source: str) -> CostProfile:
    """The profile of measured questions (equal-length lists, one entry a question)."""
    return CostProfile(
        typical=QuestionCost(statistics.median(prompt), statistics.median(gen)),
        demanding=QuestionCost(_p90(prompt), _p90(gen)),
        questions=len(prompt),
        source=source,
    )


def site_profile(home: Path) -> CostProfile:
    """The site's measured profile, or the shipped one when too few questions recorded
    their tokens (records older than the field, or no qualification run yet)."""
    prompt: list[float] = []
    gen: list[float] = []
    runs = 0
    for record in QualificationStore(home).history():
        rows = [a for a in record.ask if a.prompt_tokens_evaluated > 0]
        runs += bool(rows)
        prompt += [float(a.prompt_tokens_evaluated) for a in rows]
        gen += [float(a.completion_tokens) for a in rows]
    if len(prompt) < MIN_QUESTIONS:
        return SHIPPED
    return profile_from(prompt, gen, f"this site's qualification runs ({len(prompt)} "
                                     f"questions in {runs} runs)")  # fmt: skip
