"""The question suite of one test plant, asked of the real agent on a live plant.

The plant runs in real time while questions are asked (values barely move during an
answer); for a scenario its fault is injected, the plant fast-forwarded until the alarm
shows (and ``hold_s`` more), then back to real time. Scenarios stay in force for the
rest of the run, so questions without one are asked first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from agent.errors import UsageError
from harness.evals.plants.check import QuestionResult, judge
from harness.evals.plants.product import ProductAgent
from harness.evals.plants.suite import Question, Scenario, Suite
from plant.kit.server import KitPlantServer

#: Simulated seconds per wall second while a scenario's fault develops.
FAST = 240.0


def select(suite: Suite, limit: int | None) -> list[Question]:
    """The questions to ask, those without a scenario first; the first ``limit`` keep
    every kind they can (one of each kind first, then the rest in order)."""
    ordered = sorted(suite.question, key=lambda q: q.scenario is not None)
    if limit is None or limit >= len(ordered):
        return ordered
    if limit < 1:
        raise UsageError(f"{limit} questions", fix="give a positive number of questions")
    firsts: list[Question] = []
    for q in ordered:
        if q.kind not in {f.kind for f in firsts}:
            firsts.append(q)
    chosen = [*firsts, *[q for q in ordered if q not in firsts]][:limit]
    return sorted(chosen, key=ordered.index)


async def develop(server: KitPlantServer, scenario: Scenario, timeout_s: float = 120.0) -> None:
    """Inject the scenario's fault and run fast until its alarm is active (+ hold_s)."""
    server.model.inject(scenario.fault, scenario.target, developed_s=scenario.developed_s)
    speed, server.speed = server.speed, FAST
    try:
        deadline = time.monotonic() + timeout_s
        while scenario.alarm not in server.active_alarms():
            if time.monotonic() > deadline:
                raise UsageError(f"{scenario.fault} on {scenario.target} raised no "
                                 f"{scenario.alarm} in {timeout_s:.0f} s",
                                 fix="check the scenario against the plant's physics")
            await server.wait_ticks(1)
        t_end = server.model.time_s + scenario.hold_s
        while server.model.time_s < t_end:
            await server.wait_ticks(1)
    finally:
        server.speed = speed
    # History holds the fault's state before anything is asked about it (a trend is
    # judged from the last stored points).
    await server.wait_history(3)


async def ask_suite(suite: Suite, server: KitPlantServer, agent: ProductAgent,
                    questions: list[Question],
                    progress: Callable[[str], None] | None = None) -> list[QuestionResult]:
    """Ask ``questions`` in order, developing each scenario before its first question."""
    scenarios = {s.id: s for s in suite.scenario}
    developed: set[str] = set()
    results: list[QuestionResult] = []
    for q in questions:
        if q.scenario is not None and q.scenario not in developed:
            await develop(server, scenarios[q.scenario])
            developed.add(q.scenario)
        t0, started = datetime.now(UTC), time.monotonic()
        answer = await agent.ask(q.text)
        t1 = datetime.now(UTC)
        problems = judge(q, answer, suite=suite, server=server, tag_nodes=agent.tag_nodes,
                         t0=t0, t1=t1)
        results.append(QuestionResult(
            id=q.id, kind=q.kind, question=q.text, outcome=answer.outcome,
            right=not problems, grounded=answer.grounded, problems=problems,
            seconds=round(time.monotonic() - started, 1), answer=answer.answer,
            valid_steps=agent.last_steps()[0], model_steps=agent.last_steps()[1]))
        if progress is not None:
            progress(f"{q.id}: {'right' if not problems else 'WRONG'} "
                     f"({time.monotonic() - started:.0f} s)")
    return results
