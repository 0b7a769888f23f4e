"""Which benchmarks `plantagent bench` runs, with their quick and full sizes, and the loop
that runs them one after the other (a failing one is reported, the rest still run)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent.errors import PlantAgentError
from agent.llm.registry import ModelEntry
from harness.bench.result import BenchResult

Say = Callable[[str], None]


@dataclass(frozen=True)
class BenchOptions:
    """What every benchmark may need."""

    entry: ModelEntry
    models_dir: Path
    threads: int
    quick: bool
    #: A scripted model instead of the real one where a benchmark offers it (load).
    scripted: bool = False


def _llm(o: BenchOptions, say: Say) -> BenchResult:
    from harness.bench import llm_generation

    return llm_generation.run(o.entry, o.models_dir, tokens=32 if o.quick else 64,
                              reps=1 if o.quick else 3, threads=o.threads, say=say)


def _opcua(o: BenchOptions, say: Say) -> BenchResult:
    from harness.bench import opcua_reads

    return asyncio.run(opcua_reads.run(300 if o.quick else 1000, 2 if o.quick else 3, say=say))


def _vector(o: BenchOptions, say: Say) -> BenchResult:
    from harness.bench import vector_search

    sizes = (10_000,) if o.quick else (10_000, 100_000)
    return vector_search.run(sizes, queries=20 if o.quick else 50, say=say)


def _indexing(o: BenchOptions, say: Say) -> BenchResult:
    from harness.bench import indexing

    return indexing.run(o.models_dir, orders=300 if o.quick else 3388, threads=o.threads,
                        say=say)


def _audit(o: BenchOptions, say: Say) -> BenchResult:
    from harness.bench import audit_throughput

    return audit_throughput.run(2000 if o.quick else 20000, say=say)


def _historian(o: BenchOptions, say: Say) -> BenchResult:
    from harness.bench import historian_ingest

    return historian_ingest.run(5_000 if o.quick else 20_000, live_seconds=5 if o.quick else 20,
                                say=say)


def _ask(o: BenchOptions, say: Say) -> BenchResult:
    from harness.bench import ask_latency

    return asyncio.run(ask_latency.run(o.models_dir, reps=1 if o.quick else 3,
                                       threads=o.threads, model=o.entry.name, say=say))


def _triage(o: BenchOptions, say: Say) -> BenchResult:
    from harness.bench import triage_latency
    from harness.evals.triage_eval import FAULTS
    from harness.qualify.triage_check import QUICK_FAULTS

    return asyncio.run(triage_latency.run(QUICK_FAULTS if o.quick else tuple(FAULTS), say=say))


def _nuisance(o: BenchOptions, say: Say) -> BenchResult:
    from harness.bench import nuisance

    return asyncio.run(nuisance.run(hours=2.0 if o.quick else 6.0, say=say))


def _load_bench(o: BenchOptions, say: Say) -> BenchResult:
    from harness.bench import service_load

    levels = (1, 2, 4) if o.quick else (1, 2, 4, 8)
    return asyncio.run(service_load.run(o.entry, o.models_dir, threads=o.threads,
                                        levels=levels, scripted=o.scripted, say=say))


#: name -> (what it compares, runner, seconds quick / full, as measured on 2 idle cores
#: with 1 model thread; with other jobs on the cores it takes two to three times longer).
BENCHMARKS: dict[str, tuple[str, Callable[[BenchOptions, Say], BenchResult], int, int]] = {
    "llm": ("constrained (llguidance, GBNF) vs free generation on the same prompt and schema; "
            "first token warm vs cold", _llm, 60, 150),
    "opcua": ("batched vs single OPC UA reads", _opcua, 5, 10),
    "vector": ("in-memory index and sqlite-vec vs NumPy brute force", _vector, 5, 60),
    "indexing": ("indexing work orders and manuals vs raw embedding and a distilled static "
                 "model", _indexing, 60, 150),
    "audit": ("audit append vs verify throughput", _audit, 5, 5),
    "historian": ("historian ingest, batched vs row by row; live recording", _historian, 10, 25),
    "ask": ("end-to-end question: cold / restart / warm", _ask, 35, 90),
    "triage": ("triage: fault onset to report", _triage, 25, 120),
    "nuisance": ("triage on a healthy plant: nuisance reports with / without the wander "
                 "check (goal 0)", _nuisance, 50, 90),
    "load": ("the site service: 1, 2, 4, 8 concurrent askers, in-process model vs inference "
             "server; triage onset to report while they wait (--scripted: the service alone)",
             _load_bench, 150, 300),
}


#: Run only when named (`plantagent bench --only load`): minutes of real-model questions.
ON_REQUEST = ("load",)


def default_names() -> list[str]:
    """What `plantagent bench` runs when no --only is given."""
    return [n for n in BENCHMARKS if n not in ON_REQUEST]


def _load() -> float:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else 0.0


def _prefixed(say: Say, name: str) -> Say:
    def inner(line: str) -> None:
        say(f"    {name}: {line}")

    return inner


def run_all(names: list[str], options: BenchOptions, say: Say,
            on_result: Callable[[BenchResult], None] | None = None) -> list[BenchResult]:
    """Run ``names`` in order; one that fails with our error is kept with the error."""
    results = []
    for i, name in enumerate(names, 1):
        what, runner, quick_s, full_s = BENCHMARKS[name]
        expected = quick_s if options.quick else full_s
        say(f"[{i}/{len(names)}] {name}: {what} (about {expected} s)")
        started = time.monotonic()
        load_start = _load()
        try:
            result = runner(options, _prefixed(say, name))
        except PlantAgentError as exc:
            result = BenchResult(name, what, error=str(exc))
        result.seconds = round(time.monotonic() - started, 1)
        result.load_start, result.load_end = load_start, _load()
        say(f"[{i}/{len(names)}] {name} done in {result.seconds:.0f} s")
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def expected_seconds(names: list[str], quick: bool) -> int:
    """The documented duration of running ``names``."""
    return sum(BENCHMARKS[n][2] if quick else BENCHMARKS[n][3] for n in names)
