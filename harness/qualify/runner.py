"""One qualification run: the ask suite, triage report writing and the injection suite
against the demo plant, with the model under test, in a throw-away encrypted site.

The site the settings name is not touched here (its thresholds are passed in); the
record is judged by :mod:`harness.qualify.criteria` and kept by the caller.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from agent.llm.factory import expected_model
from agent.pipeline.events import AgentEvent
from agent.policy.models import QualificationPolicy
from agent.qualification.record import AskOutcome, QualificationRecord
from agent.runtime import SiteRuntime
from agent.runtime.model import shared_chat_model
from agent.settings import Settings, SimSettings, load_settings
from harness.evals import ask_suite
from harness.evals.injection_payloads import Payload, representative
from harness.evals.injection_report import summary
from harness.evals.injection_run import SuiteResult, run_suite
from harness.evals.triage_eval import FAULTS
from harness.qualify import criteria
from harness.qualify.ask_measure import measure
from harness.qualify.step_timer import StepTimer
from harness.qualify.triage_check import QUICK_FAULTS, triage_outcome
from harness.sites import throwaway_site
from plant.server import DemoPlantServer

PASSPHRASE = "qualification run passphrase"
ASKER, ROLE = "qualify-shift-lead", "shift_lead"
#: Per-question limits (the policy's own are 8 steps / 300 s): a model that wanders costs
#: at most this much; the default model answers these questions in one to three steps.
MAX_STEPS, TIME_BUDGET_S = 6, 120.0
#: (done, total, label): fits agent.cli.models_cmd.ProgressBar with unit="".
Progress = Callable[[int, int, str], None]


@dataclass
class QualifyPlan:
    """What one run measures and with which model."""

    model: str
    models_dir: Path
    threads: int = 1
    quick: bool = False
    cases: list[ask_suite.AskCase] = field(default_factory=list)
    payloads: list[Payload] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    #: Some suite was cut to a count: not the documented quick or full run.
    subset: bool = False

    @property
    def total(self) -> int:
        """Units of progress: questions, payloads, faults."""
        return len(self.cases) + len(self.payloads) + len(self.faults)


def default_plan(model: str, models_dir: Path, *, threads: int, quick: bool,
                 questions: int | None = None, payloads: int | None = None,
                 faults: int | None = None) -> QualifyPlan:
    """The full plan (12 questions, 18 payloads, 9 faults) or the quick one (6, 6, 2),
    each part optionally cut to a count (0 leaves a suite out)."""
    fault_names = list(QUICK_FAULTS if quick else FAULTS)
    return QualifyPlan(
        model=model, models_dir=models_dir, threads=threads, quick=quick,
        cases=ask_suite.select(questions, quick=quick) if questions != 0 else [],
        payloads=representative(payloads if payloads is not None else 6 if quick else 18)
        if payloads != 0 else [],
        faults=fault_names[:faults] if faults is not None else fault_names,
        subset=any(n is not None for n in (questions, payloads, faults)),
    )


class _Ticker:
    """Counts finished units and reports them."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.done, self.total, self.progress = 0, total, progress

    def __call__(self, label: str) -> None:
        self.done += 1
        self.note(label)

    def note(self, label: str) -> None:
        """Show what the current unit is doing, without counting it done."""
        if self.progress is not None:
            self.progress(self.done, self.total, label)

    def agent_events(self, case_id: str) -> Callable[[AgentEvent], None]:
        """An on_event callback showing the agent's status lines (no tokens, no text)."""

        def on_event(event: AgentEvent) -> None:
            if event.kind == "status":
                self.note(f"ask {case_id}: {event.text[:40]}")

        return on_event


async def _ask_all(runtime: SiteRuntime, plant: DemoPlantServer,
                   cases: list[ask_suite.AskCase], tick: _Ticker) -> list[AskOutcome]:
    outcomes: list[AskOutcome] = []
    agent, audit = await runtime.agent(), runtime.audit
    fault_injected = False
    for case in sorted(cases, key=lambda c: c.after_fault):  # healthy questions first
        if case.after_fault and not fault_injected:
            await ask_suite.inject_fault_and_wait(plant)
            fault_injected = True
        seq0 = audit.size()
        started = time.monotonic()
        answer = await agent.ask(case.question, actor=ASKER, role=ROLE,
                                 on_event=tick.agent_events(case.id))
        records = audit.search(seq_from=seq0 + 1)
        outcome = measure(case, answer, records, time.monotonic() - started)
        outcomes.append(outcome)
        tick(f"ask {case.id}: {'pass' if outcome.passed else 'FAIL'}")
    return outcomes


def _speed(outcomes: list[AskOutcome], generation_rate: float) -> dict[str, float]:
    """Generation tokens/s (prompt evaluation excluded), median time to the first token
    of a question, mean question time."""
    firsts = [o.first_token_s for o in outcomes if o.first_token_s is not None]
    return {
        "tokens_per_s": round(generation_rate, 2),
        "first_token_s": round(statistics.median(firsts), 3) if firsts else 0.0,
        "question_s": round(statistics.mean(o.seconds for o in outcomes), 2)
        if outcomes else 0.0,
    }


def injection_metrics(result: SuiteResult) -> dict[str, float]:
    """injection_correct, injection_writes, injection_violations, injection_egress."""
    s = summary(result)
    payloads = int(s["payloads"])
    return {
        "injection_correct": round(int(s["correct"]) / payloads, 4) if payloads else 0.0,
        "injection_writes": float(s["writes"]),
        "injection_violations": float(s["violations"]),
        "injection_egress": float(s["egress_refused"] + s["offsite_connects"]),
        # Information, not a criterion: the answer repeated the payloads' marker word.
        "injection_marker_rate": round(int(s["obeyed_marker"]) / payloads, 4)
        if payloads else 0.0,
    }


def _settings(home: Path, plan: QualifyPlan) -> Settings:
    return load_settings(
        home=home,
        model={"name": plan.model, "directory": str(plan.models_dir), "threads": plan.threads},
        # Qualification measures the model: every question goes to it, including those
        # the product answers from its readings alone (agent.plain_readings).
        agent={"user": ASKER, "role": ROLE, "max_steps": MAX_STEPS,
               "time_budget_s": TIME_BUDGET_S, "plain_readings": False},
    )


async def _ask_and_triage(plan: QualifyPlan, settings: Settings, work: Path,
                          record: QualificationRecord, tick: _Ticker) -> None:
    """The ask suite on one demo plant, then triage reports (a plant and a key-file site
    per fault, inside the run's directory), with one loaded model."""
    tick.note("loading the model")
    # Built here (prefix state kept in memory) so every step's timings are seen.
    timer = StepTimer(await asyncio.to_thread(shared_chat_model, settings))
    try:
        async with DemoPlantServer(SimSettings(port=0, speed=60.0, history_hours=1.0)) as plant, \
                SiteRuntime(settings, endpoint=plant.endpoint, passphrase=PASSPHRASE,
                            model=timer, plant_name="the demo plant") as runtime:
            record.sha256 = timer.info.sha256
            t0 = time.monotonic()
            record.ask = await _ask_all(runtime, plant, plan.cases, tick)
            record.durations_s["ask"] = round(time.monotonic() - t0, 1)
            if record.ask:
                record.speed = _speed(record.ask, timer.generation_rate())
        t0 = time.monotonic()
        for i, fault in enumerate(plan.faults, 1):
            tick.note(f"triage {fault}: live run, the model writes the reports")
            outcome = await triage_outcome(fault, timer, work / f"triage-{i}")
            record.triage.append(outcome)
            tick(f"triage {fault}: {'pass' if outcome.passed else 'FAIL'}")
        if plan.faults:
            record.durations_s["triage"] = round(time.monotonic() - t0, 1)
    finally:
        timer.close()


async def run_qualification(plan: QualifyPlan, thresholds: QualificationPolicy, *,
                            progress: Progress | None = None,
                            machine: dict[str, str] | None = None) -> QualificationRecord:
    """Run ``plan`` and return its judged record (not yet compared or saved)."""
    record = QualificationRecord(
        model=plan.model, sha256="0" * 64, quick=plan.quick, subset=plan.subset,
        threads=plan.threads,
        started=datetime.now(UTC).isoformat(timespec="seconds"), machine=machine or {},
    )
    tick = _Ticker(plan.total, progress)
    t_start = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="plantagent-qualify-"))
    home = work / "site"
    try:
        throwaway_site(home, passphrase=PASSPHRASE)
        settings = _settings(home, plan)
        record.sha256 = expected_model(settings)[1] or record.sha256
        if plan.cases or plan.faults:
            await _ask_and_triage(plan, settings, work, record, tick)
        if plan.payloads:
            t0 = time.monotonic()
            result = await run_suite(
                plan.payloads, plan.models_dir, control=False, threads=plan.threads,
                model_name=plan.model, progress=lambda line: tick.note(f"injection: {line[:50]}"),
                on_case=lambda r: tick(f"injection {r.cases[-1].id}"),
            )
            record.injection = summary(result)
            record.metrics.update(injection_metrics(result))
            record.durations_s["injection"] = round(time.monotonic() - t0, 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if record.ask:
        record.metrics.update(criteria.ask_metrics(record.ask))
    if record.triage:
        record.metrics.update(criteria.triage_metrics(record.triage))
    record.criteria = criteria.judge(record.metrics, thresholds)
    record.qualified = criteria.qualified(record.criteria)
    record.seconds = round(time.monotonic() - t_start, 1)
    return record
