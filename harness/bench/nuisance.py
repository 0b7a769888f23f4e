"""Nuisance reports: triage on a healthy demo plant (no fault) over several simulated
hours, with and without the wander check of the deviation rule, side by side (goal: zero).

The plant's history is pre-filled at its own pace (speed 1, a point every 10 s) for the
hours looked at plus the hours the rules read before them; triage passes then step
through those hours on the watcher's clock, every ``step`` of simulated time, each pass
reading the history as a live pass would. Every report is a nuisance: nothing is wrong.
The detection figures are the "triage" benchmark's, in the same run.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from agent.runtime import SiteRuntime
from agent.settings import SimSettings, load_settings
from agent.triage.watcher import WatchRules
from harness.bench.result import BenchResult
from harness.sites import throwaway_site
from plant.server import DemoPlantServer

Say = Callable[[str], None]


async def _count(plant: DemoPlantServer, home: Path, start: datetime, passes: int,
                 step: timedelta, rules: WatchRules, say: Say) -> tuple[int, int, list[str]]:
    """(reports, passes with an incident, what the reports were) over ``passes`` passes."""
    throwaway_site(home)
    settings = load_settings(home=home, opcua={"endpoint": plant.endpoint, "timeout_s": 10.0})
    now = [start]
    reports, busy, what = 0, 0, []
    async with SiteRuntime(settings, clock=lambda: now[0], plant_name="the demo plant") as rt:
        svc = await rt.triage(rules=rules)
        for i in range(passes):
            now[0] = start + i * step
            got = await svc.run_once()
            busy += bool(got.reports or got.skipped)
            for r in got.reports:
                top = r.candidates[0] if r.candidates else None
                line = (f"{now[0]:%H:%M} {r.incident.kind}: {r.incident.summary}"
                        + (f" -> {top.cause} {top.confidence:.0%}" if top else ""))
                say(line)
                what.append(line)
            reports += len(got.reports)
    return reports, busy, what


async def run(hours: float = 4.0, step_min: float = 5.0, seed: int = 7,
              say: Say = lambda _: None) -> BenchResult:
    """Reports on a healthy plant over ``hours``, with the wander check and without it."""
    rules = WatchRules()
    lead = rules.wander_lookback + rules.lookback
    step = timedelta(minutes=step_min)
    passes = int(hours * 60 / step_min)
    result = BenchResult("nuisance", f"triage on a healthy demo plant: nuisance reports over "
                         f"{hours:g} simulated hours (goal 0)",
                         params={"hours": hours, "step_min": step_min, "seed": seed})
    sim = SimSettings(port=0, speed=1.0, seed=seed, history_period_s=10.0,
                      history_hours=hours + lead.total_seconds() / 3600 + 0.1)
    with tempfile.TemporaryDirectory() as tmp:
        async with DemoPlantServer(sim, publish_interval_s=1.0) as plant:
            end = datetime.now().astimezone()
            start = end - timedelta(hours=hours)
            with_check = await _count(plant, Path(tmp) / "with", start, passes, step, rules,
                                      say)
            without = await _count(plant, Path(tmp) / "without", start, passes, step,
                                   WatchRules(deviation_margin=0.0), say)
    result.add("nuisance reports, deviation weighed against the tag's wander",
               with_check[0], "reports")
    result.add("nuisance reports, plain deviation rule", without[0], "reports")
    result.add("triage passes", passes, "passes")
    result.ratio("nuisance reports: with / without the wander check", with_check[0],
                 max(without[0], 1), f"{with_check[1]} / {without[1]} passes found something")
    result.notes += [f"with the check: {w}" for w in with_check[2]]
    result.notes += [f"plain rule: {w}" for w in without[2]]
    return result
