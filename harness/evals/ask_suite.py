"""The question-answering suite: twelve shift questions about the demo plant and how
each answer is judged.

The end-to-end tests (tests/e2e/test_e2e_ask.py) and `plantagent models qualify` ask the
same questions and apply the same checks. A check returns the problems it found (empty:
the answer passes); it reads only the answer record (its text, citations and the results
of its steps), never the model. Cases marked ``after_fault`` are asked once the demo
plant's conveyor jam has raised an alarm (:func:`inject_fault_and_wait`).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from agent.errors import UsageError
from agent.pipeline.answer import AgentAnswer
from plant.server import DemoPlantServer
from tools.limits import LimitCheck
from tools.opcua.models import Reading
from tools.opcua.toolset import Alarms, Readings

Check = Callable[[AgentAnswer], list[str]]

#: The fault the after-fault cases need, and the equipment it is injected on.
FAULT, FAULT_TARGET = "conveyor_jam", "CV-101"
#: Equipment a correct answer about the jam names (the conveyor or its motor).
_JAM_EQUIPMENT = re.compile(r"\b(CV|M)-101\b")
_EQUIPMENT_NAME = re.compile(r"\b[A-Z]{1,3}-\d{3}\b")
_NUMBER = re.compile(r"(?<![\w.-])\d+(?:\.\d+)?(?![\w-])")
#: Marks the question of the ticket case; the e2e test looks for it on disk.
CANARY = "CANARY-4f1c9e-plantagent"
READ_TOOLS = ("read_tags", "read_equipment")


@dataclass(frozen=True)
class AskCase:
    """One question, how its answer is judged, and the tools the question implies."""

    id: str
    question: str
    check: Check
    #: Tools a correct answer needs evidence from (any one of them).
    tools: tuple[str, ...] = ()
    after_fault: bool = False


def numbers_in(text: str) -> list[float]:
    """The plain numbers written in ``text``."""
    return [float(n) for n in _NUMBER.findall(text)]


def cited_readings(answer: AgentAnswer, tag: str) -> list[Reading]:
    """The readings of ``tag`` in the steps the answer cites."""
    return [
        r
        for step in answer.steps
        if step.evidence_id in answer.citations and isinstance(step.result, Readings)
        for r in step.result.readings
        if r.tag == tag
    ]


def _grounded(answer: AgentAnswer) -> list[str]:
    if answer.grounded:
        return []
    # Kinds only: problems go into stored reports, which hold no answer text or readings.
    kinds = ", ".join(sorted({c.kind for c in answer.unsupported})) or "claims"
    return [f"not grounded (unsupported {kinds})"]


def states_value(tag: str) -> Check:
    """Answered, grounded, cites a reading of ``tag`` and states its value (within 5 %)."""

    def check(answer: AgentAnswer) -> list[str]:
        if answer.outcome != "answered":
            return [f"outcome {answer.outcome}, expected answered"]
        problems = _grounded(answer)
        readings = cited_readings(answer, tag)
        if not readings:
            return [*problems, f"no cited reading of {tag}"]
        value = readings[0].value
        if isinstance(value, bool) or not isinstance(value, int | float):
            return [*problems, f"the reading of {tag} has no number"]
        if not any(abs(n - value) <= 0.05 * max(1.0, abs(value))
                   for n in numbers_in(answer.answer)):
            problems.append(f"the value of {tag} is not stated")
        return problems

    return check


def _compares_vibration(answer: AgentAnswer) -> list[str]:
    problems = _grounded(answer)
    read = {r.tag for s in answer.steps if s.ok and s.tool == "read_tags"
            and isinstance(s.result, Readings) for r in s.result.readings}
    missing = {"P-101.Vibration", "C-101.Vibration"} - read
    if missing:
        problems.append(f"not read: {', '.join(sorted(str(m) for m in missing))}")
    if "Vibration" not in answer.answer:
        problems.append("the answer does not name the vibration")
    return problems


def _limits_step(answer: AgentAnswer) -> LimitCheck | None:
    found = next((s for s in answer.steps if s.tool == "check_limits" and s.ok), None)
    return found.result if found is not None and isinstance(found.result, LimitCheck) else None


def _nothing_outside(answer: AgentAnswer) -> list[str]:
    problems = _grounded(answer)
    result = _limits_step(answer)
    if result is None:
        return [*problems, "limits were not checked"]
    if result.outside:
        problems.append("the healthy plant had tags outside their limits")
    # Nothing is outside, so no equipment may be named as being outside.
    if _EQUIPMENT_NAME.search(answer.answer):
        problems.append("names equipment although nothing is outside its limits")
    return problems


def _used_history(answer: AgentAnswer) -> list[str]:
    problems = _grounded(answer)
    if not any(s.tool == "tag_history" and s.ok for s in answer.steps):
        problems.append("no history was read")
    return problems


def _unknown_equipment(answer: AgentAnswer) -> list[str]:
    problems = []
    if answer.outcome != "cannot_answer":
        problems.append(f"outcome {answer.outcome}, expected cannot_answer")
    if "P-999" not in answer.answer or "not in the plant catalog" not in answer.answer:
        problems.append("does not say that P-999 is not in the plant catalog")
    if any(s.tool in READ_TOOLS for s in answer.steps):
        problems.append("read tags for equipment that does not exist")
    return problems


def _off_plant(answer: AgentAnswer) -> list[str]:
    problems = []
    if answer.outcome != "cannot_answer":
        problems.append(f"outcome {answer.outcome}, expected cannot_answer")
    if "Needed" not in answer.answer:
        problems.append("does not say what would be needed")
    return problems


def _names_jam_alarm(answer: AgentAnswer) -> list[str]:
    problems = _grounded(answer)
    found = next((s for s in answer.steps if s.tool == "active_alarms"), None)
    if found is None or not isinstance(found.result, Alarms) or not found.result.alarms:
        problems.append("no active alarm was read")
    if not _JAM_EQUIPMENT.search(answer.answer):
        problems.append("does not name CV-101 or M-101")
    return problems


def _names_jam_limits(answer: AgentAnswer) -> list[str]:
    problems = _grounded(answer)
    if _limits_step(answer) is None:
        problems.append("limits were not checked")
    if not _JAM_EQUIPMENT.search(answer.answer):
        problems.append("does not name CV-101 or M-101")
    return problems


CASES: tuple[AskCase, ...] = (
    AskCase("p101-bearing", "What is the bearing temperature of P-101?",
            states_value("P-101.BearingTemperature"), READ_TOOLS),
    AskCase("t101-level", "What is the level of tank T-101?", states_value("T-101.Level"),
            READ_TOOLS),
    AskCase("c101-pressure", "What is the discharge pressure of C-101?",
            states_value("C-101.DischargePressure"), READ_TOOLS),
    AskCase("p101-bearing-fr", "Quelle est la température du palier de P-101 ?",
            states_value("P-101.BearingTemperature"), READ_TOOLS),
    AskCase("compare-vibration", "Compare the vibration of P-101 and C-101.",
            _compares_vibration, ("read_tags",)),
    AskCase("healthy-limits", "Which equipment is outside its normal limits right now?",
            _nothing_outside, ("check_limits",)),
    AskCase("history-max", "What was the highest bearing temperature of P-101 over the last "
            "hour?", _used_history, ("tag_history",)),
    AskCase("unknown-equipment", "What is the temperature of P-999?", _unknown_equipment),
    AskCase("off-plant", "What will the electricity price be tomorrow?", _off_plant),
    AskCase("ticket-level", f"What is the level of tank T-101? Ticket {CANARY}",
            states_value("T-101.Level"), READ_TOOLS),
    AskCase("fault-alarms", "Are there any active alarms?", _names_jam_alarm,
            ("active_alarms",), after_fault=True),
    AskCase("fault-limits", "Which equipment is outside its normal limits right now?",
            _names_jam_limits, ("check_limits",), after_fault=True),
)
#: The cases of a quick run: one of each kind of check.
QUICK_IDS = ("p101-bearing", "compare-vibration", "history-max", "unknown-equipment",
             "fault-alarms", "fault-limits")


def case(case_id: str) -> AskCase:
    """The case called ``case_id``."""
    for found in CASES:
        if found.id == case_id:
            return found
    raise UsageError(f"no ask case {case_id!r}", fix=f"use one of {', '.join(c.id for c in CASES)}")


def select(limit: int | None = None, *, quick: bool = False) -> list[AskCase]:
    """The cases to run: all, the quick set, or the first ``limit`` (healthy ones first,
    then the after-fault ones, so a subset still holds both kinds when it can)."""
    chosen = [case(i) for i in QUICK_IDS] if quick else list(CASES)
    if limit is None or limit >= len(chosen):
        return chosen
    if limit < 1:
        raise UsageError(f"{limit} questions", fix="give a positive number of questions")
    healthy = [c for c in chosen if not c.after_fault]
    faulted = [c for c in chosen if c.after_fault]
    keep_fault = min(len(faulted), limit // 2)
    return healthy[: limit - keep_fault] + faulted[:keep_fault]


async def inject_fault_and_wait(plant: DemoPlantServer, timeout_s: float = 90.0) -> None:
    """Jam the conveyor and wait until the plant raises an alarm for it."""
    plant.model.inject(FAULT, FAULT_TARGET)
    deadline = time.monotonic() + timeout_s
    while not plant.active_alarms():
        if time.monotonic() > deadline:
            raise UsageError(f"the {FAULT} raised no alarm in {timeout_s:.0f} s",
                             fix="run the demo plant fast-forwarded (speed 60)")
        await asyncio.sleep(0.5)
