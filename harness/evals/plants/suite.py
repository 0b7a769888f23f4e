"""The ground truth of a test plant, as data: harness/evals/plants/<plant>.toml.

A suite names the plant's equipment as people say it (aliases), the questions a shift
lead asks with what a right answer must hold, the fault scenarios some questions are
asked in, and per fault what triage must rank first. Values are never written in the
suite: a fact is a reference resolved against the live server when the answer is
checked (``live:``, ``limit_high:``, ``hist_max:``...; see :mod:`.truth`).
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent.errors import UsageError

Kind = Literal["single", "multi", "compare", "limit", "history", "trend", "asset", "alarms",
               "unanswerable"]
Outcome = Literal["answered", "cannot_answer"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Fact(_Model):
    """A number the answer must state: ``ref`` resolved at check time, +- ``tol``."""

    ref: str = Field(description="live:KEY | limit_high:KEY | limit_low:KEY | "
                     "hist_max:KEY:MIN | hist_min:KEY:MIN | hist_mean:KEY:MIN | "
                     "hist_at:KEY:MIN_AGO")
    tol: float = Field(ge=0)
    unit: str | None = Field(None, description="A unit symbol the answer must also give.")


class Question(_Model):
    """One question and what a right answer must hold."""

    id: str
    kind: Kind
    text: str
    outcome: Outcome = "answered"
    #: Tag keys the agent must have read (a reading, a history or a limit check of it).
    read: list[str] = Field(default_factory=list)
    facts: list[Fact] = Field(default_factory=list)
    #: Equipment ids the answer must name / must not name (by their aliases).
    mention: list[str] = Field(default_factory=list)
    forbid: list[str] = Field(default_factory=list)
    #: Tag keys of sensors the answer must name (by tag name or what they measure).
    sensors: list[str] = Field(default_factory=list)
    #: Tag keys the answer must identify, by the tag's own name (where it is unique in
    #: the plant) or by its equipment's name: an alarm is named either way.
    identify: list[str] = Field(default_factory=list)
    #: "KEY:MINUTES": the answer must say the direction history shows over the window.
    trend: str | None = None
    #: The tags of ``read`` must have been read from history (a history summary or
    #: samples of them), not only their current value.
    history: bool = False
    #: For limit questions: the answer must say the value is "outside" (or "inside") its
    #: limits, and must not say the opposite.
    state: Literal["outside", "inside"] | None = None
    #: A scenario (fault) to be in force when the question is asked.
    scenario: str | None = None


class Scenario(_Model):
    """A fault injected before some questions, developed until an alarm shows."""

    id: str
    fault: str
    target: str
    #: "KEY.High" or "KEY.Low": the condition that must be active before asking.
    alarm: str
    #: Simulated seconds the fault had already been developing when injected.
    developed_s: float = 0.0
    #: Simulated seconds to keep running fast after the alarm (values clearly beyond).
    hold_s: float = 300.0


class TriageCase(_Model):
    """One fault injected alone: triage must rank ``causes`` on ``equipment`` first."""

    fault: str
    target: str
    equipment: str
    causes: list[str] = Field(min_length=1)
    #: Simulated seconds until the fault's symptoms are clear (sets the fast-forward).
    symptoms_s: float = Field(gt=0)


class Equipment(_Model):
    """What people call one equipment. ``aliases`` count as naming it in an answer;
    ``ids`` (its tag numbers) are what an answer must not name when it must not name
    the equipment (a plain word such as "cooling tower" may be said in passing)."""

    aliases: list[str] = Field(min_length=1)
    ids: list[str] = Field(default_factory=list)

    def forbidden_names(self) -> list[str]:
        """What a "must not name" check looks for."""
        return self.ids or self.aliases


class Suite(_Model):
    """The ground truth of one test plant."""

    plant: str
    language: str = "en"
    equipment: dict[str, Equipment]
    #: Words people use for each measured quantity (for "which sensors" answers).
    quantities: dict[str, list[str]] = Field(default_factory=dict)
    question: list[Question]
    scenario: list[Scenario] = Field(default_factory=list)
    triage: list[TriageCase] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> Suite:
        ids = {s.id for s in self.scenario}
        seen: set[str] = set()
        for q in self.question:
            if q.id in seen:
                raise ValueError(f"question id {q.id!r} twice")
            seen.add(q.id)
            if q.scenario is not None and q.scenario not in ids:
                raise ValueError(f"question {q.id}: no scenario {q.scenario!r}")
            unknown = [e for e in [*q.mention, *q.forbid] if e not in self.equipment]
            if unknown:
                raise ValueError(f"question {q.id}: unknown equipment {unknown}")
        return self


SUITES = ("waterworks", "kuehlwasser", "chillerplant")


def load_suite(name: str) -> Suite:
    """The suite of plant ``name`` (UsageError naming the suites otherwise)."""
    if name not in SUITES:
        raise UsageError(f"no question suite for plant {name!r}",
                         fix=f"use one of: {', '.join(SUITES)}")
    text = resources.files(__package__).joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return Suite.model_validate(tomllib.loads(text))
