"""End to end with the real default model against the demo plant.

One demo plant, one encrypted site and one loaded model for the module; the questions of
the ask suite (harness/evals/ask_suite.py, shared with `plantagent models qualify`) run in
order, the after-fault ones once the conveyor jam has raised an alarm. Every answered
question must be grounded: each number, unit, tag and equipment name in the answer is in
the evidence it cites.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from agent.pipeline.answer import AgentAnswer
from agent.runtime import SiteRuntime
from harness.evals import ask_suite
from plant.server import DemoPlantServer

pytestmark = [pytest.mark.model, pytest.mark.asyncio(loop_scope="module")]

HEALTHY = [c for c in ask_suite.CASES if not c.after_fault and c.id != "ticket-level"]
FAULTED = [c for c in ask_suite.CASES if c.after_fault]


async def ask(runtime: SiteRuntime, question: str) -> AgentAnswer:
    return await (await runtime.agent()).ask(question, actor="e2e-shift-lead", role="shift_lead")


def files_containing(root: Path, marker: bytes) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``marker``."""
    return [p for p in root.rglob("*") if p.is_file() and marker in p.read_bytes()]


@pytest.mark.parametrize("case", HEALTHY, ids=[c.id for c in HEALTHY])
async def test_healthy_plant_question(runtime: SiteRuntime, case: ask_suite.AskCase) -> None:
    answer = await ask(runtime, case.question)
    assert case.check(answer) == [], (answer.answer, answer.unsupported)


async def test_alarm_and_limits_after_a_fault(
    runtime: SiteRuntime, plant: DemoPlantServer
) -> None:
    await ask_suite.inject_fault_and_wait(plant)
    for case in FAULTED:
        answer = await ask(runtime, case.question)
        assert case.check(answer) == [], (case.id, answer.answer, answer.unsupported)


async def test_canary_never_reaches_disk_in_plaintext(
    runtime: SiteRuntime, e2e_home: Path
) -> None:
    started = time.time()
    ticket = ask_suite.case("ticket-level")
    answer = await ask(runtime, ticket.question)
    assert answer.outcome == "answered"
    runtime.audit.checkpoint()
    hits = await asyncio.to_thread(files_containing, e2e_home, ask_suite.CANARY.encode())
    assert hits == []
    # The audit log did record it, encrypted.
    recorded = runtime.audit.search(kind="question", text=ask_suite.CANARY)
    assert recorded and recorded[-1].ts.timestamp() >= started - 1
