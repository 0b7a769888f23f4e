"""End to end with the real default model against the demo plant.

One demo plant, one encrypted site and one loaded model for the module; the questions
run in order (the alarm questions come after a fault is injected). Every answered
question must be grounded: each number, unit, tag and equipment name in the answer is in
the evidence it cites.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest

from agent.compose import AgentSession
from agent.loop.answer import AgentAnswer
from plant.server import DemoPlantServer

pytestmark = [pytest.mark.model, pytest.mark.asyncio(loop_scope="module")]

CANARY = "CANARY-4f1c9e-plantagent"


async def ask(session: AgentSession, question: str) -> AgentAnswer:
    return await session.agent.ask(question, actor="e2e-shift-lead", role="shift_lead")


def files_containing(root: Path, marker: bytes) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``marker``."""
    return [p for p in root.rglob("*") if p.is_file() and marker in p.read_bytes()]


def _numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"(?<![\w.-])\d+(?:\.\d+)?(?![\w-])", text)]


def assert_reports_value(answer: AgentAnswer, tag: str) -> None:
    """The answer is grounded, cites a reading of ``tag`` and states its value."""
    assert answer.outcome == "answered", answer.answer
    assert answer.grounded, (answer.answer, answer.unsupported)
    readings = [
        r
        for step in answer.steps
        if step.evidence_id in answer.citations and step.tool in ("read_tags", "read_equipment")
        for r in step.result["readings"]
        if r["tag"] == tag
    ]
    assert readings, f"no cited reading of {tag}: {answer.steps}"
    value = readings[0]["value"]
    assert any(abs(n - value) <= 0.05 * max(1.0, abs(value)) for n in _numbers(answer.answer)), (
        answer.answer,
        value,
    )


@pytest.mark.parametrize(
    ("question", "tag"),
    [
        ("What is the bearing temperature of P-101?", "P-101.BearingTemperature"),
        ("What is the level of tank T-101?", "T-101.Level"),
        ("What is the discharge pressure of C-101?", "C-101.DischargePressure"),
        ("Quelle est la température du palier de P-101 ?", "P-101.BearingTemperature"),
    ],
)
async def test_single_reading(session: AgentSession, question: str, tag: str) -> None:
    assert_reports_value(await ask(session, question), tag)


async def test_comparison_reads_both_and_stays_grounded(session: AgentSession) -> None:
    answer = await ask(session, "Compare the vibration of P-101 and C-101.")
    assert answer.grounded, (answer.answer, answer.unsupported)
    read = {r["tag"] for s in answer.steps if s.ok and s.tool == "read_tags"
            for r in s.result["readings"]}
    assert {"P-101.Vibration", "C-101.Vibration"} <= read
    assert "Vibration" in answer.answer


async def test_healthy_plant_has_nothing_outside_limits(session: AgentSession) -> None:
    answer = await ask(session, "Which equipment is outside its normal limits right now?")
    assert answer.grounded, (answer.answer, answer.unsupported)
    check = next(s for s in answer.steps if s.tool == "check_limits")
    assert check.result["outside"] == []
    # Nothing is outside, so no equipment may be named as being outside.
    assert not re.search(r"\b[A-Z]{1,3}-\d{3}\b", answer.answer), answer.answer


async def test_history_question_uses_history(session: AgentSession) -> None:
    answer = await ask(
        session, "What was the highest bearing temperature of P-101 over the last hour?"
    )
    assert answer.grounded, (answer.answer, answer.unsupported)
    assert any(s.tool == "tag_history" and s.ok for s in answer.steps)


async def test_unknown_equipment_is_not_invented(session: AgentSession) -> None:
    answer = await ask(session, "What is the temperature of P-999?")
    assert answer.outcome == "cannot_answer"
    assert "P-999" in answer.answer and "not in the plant catalog" in answer.answer
    assert not any(s.tool in ("read_tags", "read_equipment") for s in answer.steps)


async def test_a_question_no_tool_can_answer(session: AgentSession) -> None:
    answer = await ask(session, "What will the electricity price be tomorrow?")
    assert answer.outcome == "cannot_answer"
    assert "Needed" in answer.answer


async def test_alarm_and_limits_after_a_fault(
    session: AgentSession, plant: DemoPlantServer
) -> None:
    plant.model.inject("conveyor_jam", "CV-101")
    deadline = time.monotonic() + 90
    while not plant.active_alarms():
        assert time.monotonic() < deadline, "the jam raised no alarm"
        await asyncio.sleep(0.5)
    alarms = await ask(session, "Are there any active alarms?")
    assert alarms.grounded, (alarms.answer, alarms.unsupported)
    found = next(s for s in alarms.steps if s.tool == "active_alarms")
    assert found.result["alarms"]
    assert re.search(r"\b(CV|M)-101\b", alarms.answer), alarms.answer

    limits = await ask(session, "Which equipment is outside its normal limits right now?")
    assert limits.grounded, (limits.answer, limits.unsupported)
    assert re.search(r"\b(CV|M)-101\b", limits.answer), limits.answer


async def test_canary_never_reaches_disk_in_plaintext(
    session: AgentSession, site_home: Path
) -> None:
    started = time.time()
    answer = await ask(session, f"What is the level of tank T-101? Ticket {CANARY}")
    assert answer.outcome == "answered"
    session.audit.checkpoint()
    hits = await asyncio.to_thread(files_containing, site_home, CANARY.encode())
    assert hits == []
    # The audit log did record it, encrypted.
    recorded = session.audit.search(kind="question", text=CANARY)
    assert recorded and recorded[-1].ts.timestamp() >= started - 1
