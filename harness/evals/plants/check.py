"""Judging one answer against its question's ground truth.

Checks, each adding a problem when it fails: the outcome (answered / cannot_answer); the
tags that must have been read (any successful tool result naming the tag, mapped to the
server's node through the agent's own catalog, so the product may name tags as it
likes); every fact stated as a number within tolerance, with its unit where the suite
asks for one; equipment named or not named; sensors named (by tag name or by what they
measure); the trend direction. "grounded" is the product's own verdict, reported apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from agent.pipeline.answer import AgentAnswer
from harness.evals.plants import text
from harness.evals.plants.suite import Question, Suite
from harness.evals.plants.truth import direction, resolve
from plant.kit.server import KitPlantServer
from plant.kit.spec import PlantDef


@dataclass
class QuestionResult:
    """How one answer fared."""

    id: str
    kind: str
    question: str
    outcome: str
    right: bool
    grounded: bool
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    answer: str = ""
    #: Model steps that parsed and validated the first time, and all model steps
    #: (from the question's audit records, as model qualification counts them).
    valid_steps: int = 0
    model_steps: int = 0


def kit_node(plant: PlantDef, key: str) -> str:
    """The expanded node id of a tag (``nsu=<uri>;s=<id>`` or ``;i=<n>``)."""
    tag = plant.tag(key)
    kind = "i" if isinstance(tag.node, int) else "s"
    return f"nsu={plant.namespace_uri};{kind}={tag.node}"


def _tag_names(value: Any) -> Iterator[str]:
    """Every "tag" string inside a tool result (readings, summaries, limit hits)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "tag" and isinstance(v, str):
                yield v
            else:
                yield from _tag_names(v)
    elif isinstance(value, list):
        for item in value:
            yield from _tag_names(item)


def read_nodes(answer: AgentAnswer, tag_nodes: dict[str, str]) -> set[str]:
    """Node ids of the tags the answer's successful tool calls returned data for."""
    names = {n for step in answer.steps if step.ok for n in _tag_names(step.result)}
    return {tag_nodes[n] for n in names if n in tag_nodes}


def _history_names(value: Any) -> Iterator[str]:
    """Tags a result holds history of: a record naming a tag with aggregates over a
    window (min/max/mean) or stored samples."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, dict):
        if isinstance(value.get("tag"), str) and any(k in value for k in
                                                     ("min", "max", "mean", "points")):
            yield value["tag"]
        summary = value.get("summary")
        if isinstance(summary, dict) and isinstance(summary.get("tag"), str) and \
                value.get("points"):
            yield summary["tag"]
        for v in value.values():
            yield from _history_names(v)
    elif isinstance(value, list):
        for item in value:
            yield from _history_names(item)


def history_nodes(answer: AgentAnswer, tag_nodes: dict[str, str]) -> set[str]:
    """Node ids of the tags whose history the answer's successful tool calls returned."""
    names = {n for step in answer.steps if step.ok for n in _history_names(step.result)}
    return {tag_nodes[n] for n in names if n in tag_nodes}


def _tag_name(plant: PlantDef, key: str) -> list[str]:
    """The tag's own name (loop tag without .PV), when no other tag has its name."""
    tag = plant.tag(key)
    unique = sum(1 for t in plant.tags if t.browse_name == tag.browse_name) == 1
    return [tag.browse_name.removesuffix(".PV").removesuffix("/PV")] if unique else []


def _sensor_names(plant: PlantDef, suite: Suite, key: str) -> list[str]:
    return [*_tag_name(plant, key), *suite.quantities.get(plant.tag(key).quantity, [])]


def judge(question: Question, answer: AgentAnswer, *, suite: Suite, server: KitPlantServer,
          tag_nodes: dict[str, str], t0: datetime, t1: datetime) -> list[str]:
    """The problems of ``answer`` (empty: right)."""
    plant = server.plant
    said = answer.answer
    problems: list[str] = []
    if answer.outcome != question.outcome:
        problems.append(f"outcome {answer.outcome}, expected {question.outcome}")
    if question.outcome == "cannot_answer":
        return problems
    got = read_nodes(answer, tag_nodes)
    missing = [k for k in question.read if kit_node(plant, k) not in got]
    if missing:
        problems.append(f"not read: {', '.join(missing)}")
    if question.history:
        past = history_nodes(answer, tag_nodes)
        no_history = [k for k in question.read if kit_node(plant, k) not in past]
        if no_history:
            problems.append(f"history not read: {', '.join(no_history)}")
    if question.state is not None:
        opposite = "inside" if question.state == "outside" else "outside"
        if not text.says_limit_state(said, question.state):
            problems.append(f"does not say the value is {question.state} its limits")
        elif text.says_limit_state(said, opposite):
            problems.append(f"also says the value is {opposite} its limits")
    for fact in question.facts:
        span = resolve(fact.ref, server, t0, t1).widen(fact.tol)
        if not text.states_number(said, span.low, span.high):
            problems.append(f"{fact.ref} not stated (expected {span})")
        if fact.unit is not None and not text.states_unit(said, fact.unit):
            problems.append(f"unit {fact.unit} of {fact.ref} not stated")
    for eq in question.mention:
        if not text.mentions(said, suite.equipment[eq].aliases):
            problems.append(f"does not name {eq}")
    for eq in question.forbid:
        if text.mentions(said, suite.equipment[eq].forbidden_names()):
            problems.append(f"names {eq}, which it must not")
    for key in question.sensors:
        if not text.mentions(said, _sensor_names(plant, suite, key)):
            problems.append(f"does not name the sensor {key}")
    for key in question.identify:
        names = [*_tag_name(plant, key), *suite.equipment[plant.tag(key).equipment].aliases]
        if not text.mentions(said, names):
            problems.append(f"does not identify {key} (by its tag or its equipment)")
    if question.trend is not None:
        key, _, minutes = question.trend.partition(":")
        truth = direction(plant.tag(key), server, t0, float(minutes))
        if not text.says_direction(said, truth):
            problems.append(f"does not say the trend is {truth}")
        against = {"up": "down", "down": "up"}.get(truth)
        if against is not None and text.says_direction(said, against):
            problems.append(f"also says {against}")
    return problems
