"""The demo plant in the same table: its existing ask suite (harness/evals/ask_suite.py,
the checks the e2e tests and qualification use) and its triage evaluation
(harness/evals/triage_eval.py), each fault alone, one seed."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from agent.llm.base import ChatModel
from agent.settings import Settings, SimSettings
from agent.vault import KdfParams, init_site
from harness.evals import ask_suite, triage_eval
from harness.evals.plants.check import QuestionResult
from harness.evals.plants.product import open_product_agent
from harness.evals.plants.triage import TriageResult
from plant.server import DemoPlantServer

#: The kind of each demo question, for the per-kind table.
KINDS = {
    "p101-bearing": "single", "t101-level": "single", "c101-pressure": "single",
    "p101-bearing-fr": "single", "ticket-level": "single", "compare-vibration": "compare",
    "healthy-limits": "limit", "history-max": "history", "unknown-equipment": "unanswerable",
    "off-plant": "unanswerable", "fault-alarms": "alarms", "fault-limits": "limit",
}


async def demo_questions(settings: Settings, passphrase: str, limit: int | None,
                         model: ChatModel | None,
                         progress: Callable[[str], None]) -> list[QuestionResult]:
    """The demo ask suite through the product's agent."""
    cases = ask_suite.select(limit)
    results: list[QuestionResult] = []
    async with DemoPlantServer(SimSettings(port=0, speed=60.0, history_hours=1.0)) as plant, \
            open_product_agent(settings, plant.endpoint, passphrase=passphrase,
                               plant_name="the demo plant", model=model) as agent:
        injected = False
        for case in sorted(cases, key=lambda c: c.after_fault):
            if case.after_fault and not injected:
                await ask_suite.inject_fault_and_wait(plant)
                injected = True
            started = time.monotonic()
            answer = await agent.ask(case.question)
            problems = case.check(answer)
            results.append(QuestionResult(
                id=case.id, kind=KINDS.get(case.id, "single"), question=case.question,
                outcome=answer.outcome, right=not problems, grounded=answer.grounded,
                problems=problems, seconds=round(time.monotonic() - started, 1),
                answer=answer.answer,
            valid_steps=agent.last_steps()[0], model_steps=agent.last_steps()[1]))
            progress(f"demo {case.id}: {'right' if not problems else 'WRONG'}")
    return results


async def demo_triage(work: Path, limit: int | None, timeout_s: float,
                      progress: Callable[[str], None]) -> list[TriageResult]:
    """Every demo fault alone (or the first ``limit``), one seed."""
    results: list[TriageResult] = []
    for i, fault in enumerate(list(triage_eval.FAULTS)[:limit], 1):
        home = work / f"demo-triage-{i}"
        init_site(home, demo_keyfile=True, kdf=KdfParams(n=2**10, r=8, p=1))
        target = triage_eval.FAULTS[fault][0]
        run = await triage_eval.run_one((fault,), 1, home, timeout_s)
        got = run.outcomes[0]
        results.append(TriageResult(
            fault=fault, target=target, equipment=triage_eval.equipment_of(target),
            ranked_first=got.ranked_first, in_top3=got.in_top3,
            equipment_named=got.equipment_named, top_cause=got.top_cause,
            wall_s_to_report=got.wall_s_to_report, reports=run.reports))
        progress(f"demo triage {fault}: {'first' if got.ranked_first else 'NOT first'}")
    return results
