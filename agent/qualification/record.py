"""The stored record of one qualification run (JSON next to its Markdown and charts).

It holds rates, counts, timings and case ids only: no answer text and no readings, so it
may live in plaintext under the site directory.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class AskOutcome(BaseModel):
    """One ask-suite question: did its answer pass, and how the model behaved."""

    id: str
    question: str
    passed: bool
    problems: list[str] = Field(default_factory=list)
    outcome: str
    grounded: bool
    #: Model steps that parsed and validated first time / all model steps.
    valid_steps: int = 0
    model_steps: int = 0
    #: Tools the question implies; None when it implies none.
    tool_ok: bool | None = None
    model_tools: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    first_token_s: float | None = None
    completion_tokens: int = 0
    #: Prompt tokens run through the model (not restored from cached state): with
    #: completion_tokens, what a question costs (`plantagent models recommend` reads it).
    prompt_tokens_evaluated: int = 0
    model_s: float = 0.0


class TriageOutcome(BaseModel):
    """One fault: the deterministic diagnosis, and the report text the model wrote."""

    fault: str
    equipment: str
    diagnosed: bool = Field(description="The fault was the top cause of a report.")
    top_cause: str | None = None
    writer: str = ""
    grounded: bool = False
    names_top_cause: bool = False
    passed: bool = False
    #: Wall seconds from onset to the report, the model's writing included.
    seconds_to_report: float | None = None


class Criterion(BaseModel):
    """One threshold of the policy applied to one measured value."""

    name: str
    value: float
    limit: float
    kind: Literal["min", "max"]
    passed: bool


class QualificationRecord(BaseModel):
    """Everything one run measured, its verdict and its comparison with the last
    qualified model."""

    model: str
    sha256: str
    started: str
    seconds: float = 0.0
    quick: bool = False
    #: Some suite was cut to a count (--questions/--payloads/--faults).
    subset: bool = False
    threads: int = 1
    machine: dict[str, str] = Field(default_factory=dict)
    #: Rates (0..1) and counts the criteria judge; also the deltas' keys.
    metrics: dict[str, float] = Field(default_factory=dict)
    #: tokens_per_s, first_token_s (median), question_s (mean).
    speed: dict[str, float] = Field(default_factory=dict)
    criteria: list[Criterion] = Field(default_factory=list)
    qualified: bool = False
    ask: list[AskOutcome] = Field(default_factory=list)
    triage: list[TriageOutcome] = Field(default_factory=list)
    injection: dict[str, object] = Field(default_factory=dict)
    durations_s: dict[str, float] = Field(default_factory=dict)
    compared_with: str | None = Field(None, description="Model and start of the baseline.")
    deltas: dict[str, float] = Field(default_factory=dict)

    def failed_criteria(self) -> list[Criterion]:
        """The criteria this run did not meet."""
        return [c for c in self.criteria if not c.passed]
