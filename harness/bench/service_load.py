"""The site service under load: 1, 2, 4 and 8 people asking at once through its socket,
the in-process model and the inference-server backend side by side in one run.

For each backend a fresh site is served by `plantagent serve`'s own code
(agent.serve.daemon.run_site_service) over the demo plant, with the triage watcher on.
Each level's askers each ask one question at the same moment; the figures are the median
and 95th percentile question time as the asker sees it (waiting in the queue included),
the throughput in questions per minute, and, at the busiest level, the time from a fault
injected in the plant to the watcher's report holding it (the template writes reports, so
triage never waits for the model). ``scripted`` replaces the model by a scripted one (the
service's own overhead; a fast CI-sized run, no server backend).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

from agent.llm.registry import ModelEntry
from agent.llm.scripted import ScriptedModel
from agent.llm.server_launcher import ServerProcess
from agent.people.identity import os_account
from agent.people.keys import KeySecret, write_key_file
from agent.people.models import ADMIN_ROLE
from agent.runtime import SiteRuntime
from agent.serve.client import ServiceClient
from agent.serve.daemon import run_site_service
from agent.serve.server import SiteServer
from agent.serve.site_socket import socket_path
from agent.settings import SimSettings, load_settings
from agent.vault.egress import permitting
from harness.bench.result import BenchResult
from harness.evals.figures import percentile
from harness.evals.triage_eval import FAULTS, WALL_TARGET_S
from harness.sites import throwaway_site
from plant.server import DemoPlantServer

QUESTION = "What is the bearing temperature of P-101?"
SCRIPTED_ANSWER = "P-101 is running and its readings are inside the normal ranges."
#: The fault injected while the askers are busy (develops in ~WALL_TARGET_S of wall time).
FAULT = "cooling_loss"
Say = Callable[[str], None]


def _scripted(steps: int) -> ScriptedModel:
    final = {"action": "final_answer", "answer": SCRIPTED_ANSWER, "citations": ["E1"]}
    return ScriptedModel([final] * steps)


@contextlib.contextmanager
def _backend(name: str, entry: ModelEntry, models_dir: Path, threads: int, log: Path
             ) -> Iterator[dict[str, Any]]:
    """The model settings of ``name`` ("in-process" or "server"), the server started."""
    spec: dict[str, Any] = {"directory": str(models_dir), "threads": threads,
                            "name": entry.name}
    if name == "in-process":
        yield spec
        return
    server = ServerProcess(entry.path_in(models_dir), entry.name, threads=threads, log=log)
    with permitting(sys.executable):  # the one child this benchmark starts, on loopback
        server.start()
    try:
        yield {**spec, "backend": "openai", "openai_base_url": server.base_url,
               "server_flavor": "auto"}
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def _served(home: Path, endpoint: str, model_spec: dict[str, Any] | None,
                  scripted: ScriptedModel | None) -> AsyncIterator[tuple[SiteRuntime, SiteServer]]:
    values: dict[str, Any] = {"home": home,
                              "opcua": {"endpoint": endpoint, "timeout_s": 10.0}}
    if model_spec:
        values["model"] = model_spec
    settings = load_settings(**values)
    async with SiteRuntime(settings, endpoint=endpoint, model=scripted,
                           plant_name="the demo plant") as runtime:
        key = home.parent / f"{home.name}-bench.key"
        write_key_file(key)
        runtime.people.enroll(by=None, name="Bench Asker", os_account=os_account(),
                              roles=[ADMIN_ROLE, "shift_lead"], secret=KeySecret(key_file=key))
        stop = asyncio.Event()
        ready: asyncio.Future[SiteServer] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(run_site_service(
            runtime, stop, triage=True, triage_interval_s=1.0, ready=ready.set_result))
        await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)  # type: ignore[type-var]
        if task.done():
            task.result()
        try:
            yield runtime, ready.result()
        finally:
            stop.set()
            await task


async def _ask(path: Path) -> tuple[float, bool]:
    started = time.perf_counter()
    async with ServiceClient(path) as client:
        answer = await client.ask(QUESTION, lambda _event: None)
    return time.perf_counter() - started, answer.grounded


def _holds_fault(runtime: SiteRuntime, before: set[str]) -> bool:
    for report in runtime.reports.list(limit=20):
        if report.id in before:
            continue
        if any(c.cause == FAULT for c in report.candidates[:3]):
            return True
    return False


async def _level(runtime: SiteRuntime, plant: DemoPlantServer, path: Path, askers: int,
                 *, inject: bool, timeout_s: float) -> tuple[list[float], float, int,
                                                             float | None]:
    """(question times, wall s, ungrounded, onset-to-report s or None)."""
    before = {r.id for r in runtime.reports.list(limit=50)} if inject else set()
    started = time.perf_counter()

    async def everyone() -> tuple[list[tuple[float, bool]], float]:
        done = await asyncio.gather(*(_ask(path) for _ in range(askers)))
        return done, time.perf_counter() - started  # the wall ends with the last answer

    jobs = asyncio.create_task(everyone())
    onset: float | None = None
    if inject:
        injected = time.perf_counter()
        plant.model.inject(FAULT, FAULTS[FAULT][0])
        while time.perf_counter() - injected < timeout_s:
            if await asyncio.to_thread(_holds_fault, runtime, before):
                onset = time.perf_counter() - injected
                break
            await asyncio.sleep(0.5)
    done, wall = await jobs
    return [t for t, _ in done], wall, sum(not g for _, g in done), onset


async def run(entry: ModelEntry, models_dir: Path, *, threads: int = 1,
              levels: tuple[int, ...] = (1, 2, 4, 8), scripted: bool = False,
              say: Say = lambda _: None) -> BenchResult:
    """Every level against each backend; see the module docstring."""
    backends = ("scripted",) if scripted else ("in-process", "server")
    result = BenchResult("load", f"site service under load ({', '.join(backends)}; "
                         f"{threads} model thread(s); askers {levels})",
                         params={"levels": list(levels), "threads": threads,
                                 "backends": list(backends), "model": entry.name})
    table: dict[str, dict[int, tuple[float, float, float]]] = {}
    speed = min(1000.0, max(2.0, FAULTS[FAULT][1] / WALL_TARGET_S))
    with tempfile.TemporaryDirectory(prefix="pa-load-", dir="/tmp") as tmp:
        for name in backends:
            home = throwaway_site(Path(tmp) / name)
            sim = SimSettings(port=0, speed=speed, history_hours=0.05, history_period_s=0.5)
            model = _scripted(sum(levels) + 1) if scripted else None
            with _backend(name, entry, models_dir, threads, Path(tmp) / f"{name}.log") \
                    if not scripted else contextlib.nullcontext(None) as spec:
                async with DemoPlantServer(sim, publish_interval_s=0.25) as plant, \
                        _served(home, plant.endpoint, spec, model) as (runtime, server):
                    path = server._socket_file or socket_path(home)
                    await _ask(path)  # warm-up: the model loads, the prompt prefix is kept
                    table[name] = {}
                    for askers in levels:
                        busiest = askers == max(levels)
                        times, wall, bad, onset = await _level(
                            runtime, plant, path, askers, inject=busiest,
                            timeout_s=120.0)
                        med, p95 = statistics.median(times), percentile(times, 0.95)
                        qpm = len(times) / wall * 60
                        table[name][askers] = (med, p95, qpm)
                        say(f"{name}, {askers} asker(s): median {med:.2f} s, p95 {p95:.2f} s, "
                            f"{qpm:.1f} questions/min")
                        result.add(f"{name}, {askers} askers: median question", med, "s")
                        result.add(f"{name}, {askers} askers: p95 question", p95, "s")
                        result.add(f"{name}, {askers} askers: throughput", qpm, "q/min")
                        if bad:
                            result.notes.append(f"{name}, {askers} askers: {bad} answer(s) "
                                                "not grounded")
                        if busiest:
                            if onset is None:
                                result.notes.append(f"{name}: no report of {FAULT} within "
                                                    "120 s while the askers were busy")
                            else:
                                say(f"{name}: triage onset to report {onset:.1f} s "
                                    f"while {askers} askers were busy")
                                result.add(f"{name}: triage onset to report, {askers} askers "
                                           "busy", onset, "s")
    for name, rows in table.items():
        low, high = min(levels), max(levels)
        result.ratio(f"{name}: median question, {high} / {low} askers", rows[high][0],
                     rows[low][0])
        result.ratio(f"{name}: throughput, {high} / {low} askers", rows[high][2],
                     rows[low][2])
    if "server" in table and "in-process" in table:
        top = max(levels)
        result.ratio(f"server / in-process throughput, {top} askers", table["server"][top][2],
                     table["in-process"][top][2])
    result.params["table"] = markdown_table(table)
    return result


def markdown_table(table: dict[str, dict[int, tuple[float, float, float]]]) -> str:
    """The measured table as Markdown (for the README)."""
    lines = ["| backend | askers | median question (s) | p95 question (s) | questions/min |",
             "|---|---:|---:|---:|---:|"]
    for name, rows in table.items():
        for askers, (med, p95, qpm) in rows.items():
            lines.append(f"| {name} | {askers} | {med:.2f} | {p95:.2f} | {qpm:.1f} |")
    return "\n".join(lines)

