"""`plantagent eval plants`: the question suite and the triage evaluation on every test
plant and the demo plant, a table per plant.

For each plant: the plant in process on loopback (2 h of history, real time), a
throw-away encrypted site, the product's agent with the default model asking the suite,
then each fault alone on a fresh plant with the product's triage. Results are written
after each plant (a stopped run keeps what it measured).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent.errors import PlantAgentError
from agent.llm.base import ChatModel
from agent.settings import Settings, SimSettings, load_settings
from agent.vault import KdfParams, init_site
from harness.evals.plants import demo, questions, triage
from harness.evals.plants.product import ASKER, ROLE, open_product_agent
from harness.evals.plants.report import PlantResult, write
from harness.evals.plants.suite import SUITES, load_suite
from plant.kit.server import KitPlantServer
from plant.testplants import all_test_plants

DEMO = "demo"
PLANTS = (*SUITES, DEMO)
PASSPHRASE = "plants evaluation passphrase"
#: Per-question limits, as in model qualification (the policy allows more).
MAX_STEPS, TIME_BUDGET_S = 6, 120.0


@dataclass
class PlantsPlan:
    """What to run, with which model."""

    plants: tuple[str, ...] = PLANTS
    questions: int | None = None
    faults: int | None = None
    model_name: str | None = None
    models_dir: Path | None = None
    threads: int = 1
    triage_timeout_s: float = 40.0
    #: Runs of each test-plant fault, with seeds 1..N (the triage target is per run).
    seeds: int = 1
    #: A model to use instead of loading one (tests pass a ScriptedModel).
    model: ChatModel | None = None
    #: Value-only questions answered from the readings without the model, as the product
    #: does (False: the model answers every question, as when comparing models).
    plain_readings: bool = True


def _settings(home: Path, plan: PlantsPlan) -> Settings:
    model: dict[str, object] = {"threads": plan.threads}
    if plan.model_name:
        model["name"] = plan.model_name
    if plan.models_dir is not None:
        model["directory"] = str(plan.models_dir)
    return load_settings(home=home, model=model, agent={
        "user": ASKER, "role": ROLE, "max_steps": MAX_STEPS, "time_budget_s": TIME_BUDGET_S,
        "plain_readings": plan.plain_readings})


async def run_plant(name: str, plan: PlantsPlan, work: Path,
                    progress: Callable[[str], None]) -> PlantResult:
    """One plant: its questions, then its faults."""
    home = work / f"{name}-site"
    init_site(home, passphrase=PASSPHRASE, kdf=KdfParams(n=2**10, r=8, p=1))
    settings = _settings(home, plan)
    if name == DEMO:
        result = PlantResult(DEMO, "the demo line (readable browse names)")
        if plan.questions != 0:
            result.questions = await demo.demo_questions(
                settings, PASSPHRASE, plan.questions, plan.model, progress)
        if plan.faults != 0:
            result.faults = await demo.demo_triage(work, plan.faults, plan.triage_timeout_s,
                                                   progress)
        return result
    plant, suite = all_test_plants()[name], load_suite(name)
    result = PlantResult(name, plant.title)
    chosen = questions.select(suite, plan.questions) if plan.questions != 0 else []
    if chosen:
        sim = SimSettings(port=0, speed=1.0, history_hours=2.0, history_period_s=10.0, seed=7)
        async with KitPlantServer(plant, sim) as server, \
                open_product_agent(settings, server.endpoint, passphrase=PASSPHRASE,
                                   plant_name=plant.title, model=plan.model) as agent:
            result.questions = await questions.ask_suite(
                suite, server, agent, chosen, lambda line: progress(f"{name} {line}"))
    for i, case in enumerate(suite.triage[:plan.faults], 1):
        for seed in range(1, max(1, plan.seeds) + 1):
            got = await triage.run_fault(plant, suite, case,
                                         work / f"{name}-triage-{i}-{seed}",
                                         timeout_s=plan.triage_timeout_s, seed=seed)
            result.faults.append(got)
            progress(f"{name} triage {case.fault} on {case.target} seed {seed}: "
                     f"{'first' if got.ranked_first else 'NOT first'} (top: {got.top_cause})")
    return result


async def run_plants(plan: PlantsPlan, out: Path, *, header: str = "",
                     progress: Callable[[str], None] = lambda _: None
                     ) -> list[PlantResult]:  # fmt: skip
    """Every planned plant; plants.md / plants.json in ``out`` after each."""
    results: list[PlantResult] = []
    work = Path(tempfile.mkdtemp(prefix="plantagent-plants-"))
    try:
        for name in plan.plants:
            started = time.monotonic()
            try:
                result = await run_plant(name, plan, work, progress)
            except PlantAgentError as exc:
                # One plant that cannot run (no model, a scenario that never alarms) is
                # reported as such; the other plants still run.
                result = PlantResult(name, name, error=f"{exc.message} ({exc.fix})")
            result.seconds = time.monotonic() - started
            results.append(result)
            write(results, out, header)
            progress(f"{name}: {result.right}/{len(result.questions)} right, "
                     f"{result.ranked_first}/{len(result.faults)} faults first "
                     f"({result.seconds:.0f} s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results
