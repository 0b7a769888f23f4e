"""Triage evaluation: every demo-plant fault mode injected live, alone and in pairs.

Run it with ``plantagent eval triage --out DIR`` .

For each run a fresh demo plant starts (3 min of normal history at 0.5 s, fast-forward
chosen per fault so its first symptoms show within seconds), the fault(s) are injected,
and triage passes run every second until each fault has a report or the run times out.
A fault counts as "ranked first" when the first report holding it among its top three
causes (confidence >= 0.45) has it first; "in_top3" when some report holds it there;
"equipment named" when a report's top candidate or that match is on its equipment.
Time from onset to report is given in simulated seconds (what a plant would see) and in
wall seconds.

With a model the summaries are written by it (and checked); the table then also counts
how many model summaries were kept, cut to whole sentences, or replaced by the template.

    plantagent eval triage --out /tmp/triage-eval [--seeds 3] [--pairs 8] [--model]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

from agent.llm.base import ChatModel
from agent.runtime import SiteRuntime
from agent.settings import SimSettings, load_settings
from agent.triage.models import TriageReport
from agent.triage.playbook import MIN_CONFIDENCE
from agent.triage.watcher import WatchRules
from harness.sites import throwaway_site
from plant.server import DemoPlantServer
from plant.site import install_demo_site

#: (target, simulated seconds until its symptoms are clear) per fault mode.
FAULTS: dict[str, tuple[str, float]] = {
    "bearing_wear": ("P-101", 9000.0),
    "filter_clogging": ("F-101", 6000.0),
    "cooling_loss": ("HX-101", 400.0),
    "hx_fouling": ("HX-101", 7000.0),
    "conveyor_jam": ("CV-101", 30.0),
    "compressor_valve_leak": ("C-101", 2000.0),
    "feed_valve_stuck": ("T-101", 400.0),
    "sensor_drift": ("P-101.DischargePressure", 4000.0),
    "stuck_sensor": ("HX-101.HotOutletTemperature", 60.0),
}
WALL_TARGET_S = 12.0


@dataclass
class Outcome:
    """One fault in one run."""

    fault: str
    combo: str
    seed: int
    ranked_first: bool = False
    in_top3: bool = False
    equipment_named: bool = False
    top_cause: str | None = None
    sim_s_to_report: float | None = None
    wall_s_to_report: float | None = None
    writer: str | None = None
    grounded: bool | None = None


@dataclass
class RunResult:
    """One run: its faults' outcomes."""

    combo: str
    seed: int
    outcomes: list[Outcome] = field(default_factory=list)
    reports: int = 0


def equipment_of(target: str) -> str:
    """The equipment of a target (tag targets carry it before the dot)."""
    return target.split(".", 1)[0]


def _judge(out: Outcome, reports: list[TriageReport], t_sim: float, t_wall: float) -> bool:
    """Record the first pass whose reports hold this fault among a report's top three
    causes (True), preferring a report of that pass that ranks it first (two faults in one
    incident come as two reports); a report that names the equipment with another cause is
    noted but keeps it open."""
    eq = equipment_of(FAULTS[out.fault][0])
    hits: list[tuple[int, TriageReport]] = []
    for r in reports:
        top3 = [c for c in r.candidates[:3] if c.confidence >= MIN_CONFIDENCE]
        hits += [(i, r) for i, c in enumerate(top3) if c.cause == out.fault and c.equipment == eq]
    if hits:
        rank, r = min(hits, key=lambda h: h[0])
        out.in_top3 = out.equipment_named = True
        out.ranked_first = rank == 0
        out.top_cause = r.candidates[0].cause
        out.sim_s_to_report, out.wall_s_to_report = round(t_sim), round(t_wall, 1)
        out.writer, out.grounded = r.writer, r.grounded
        return True
    for r in reports:
        if out.top_cause is None and r.candidates and r.candidates[0].equipment == eq:
            out.top_cause = r.candidates[0].cause
            out.equipment_named = True
    return False


async def run_one(faults: tuple[str, ...], seed: int, home: Path, timeout_s: float,
                  model: ChatModel | None = None) -> RunResult:
    """One live run of ``faults`` injected together (``model`` writes the summaries), in
    the demo site at ``home`` (its site data installed as any site keeps its own)."""
    install_demo_site(home)
    slowest = max(FAULTS[f][1] for f in faults)
    speed = min(1000.0, max(2.0, slowest / WALL_TARGET_S))
    sim = SimSettings(port=0, speed=speed, history_hours=0.05, history_period_s=0.5, seed=seed)
    result = RunResult("+".join(faults), seed)
    # Horizons are in wall time: 30 simulated minutes at this fast-forward.
    horizon = timedelta(seconds=max(5.0, 1800.0 / speed))
    async with DemoPlantServer(sim, publish_interval_s=0.25) as plant:
        settings = load_settings(home=home, opcua={"endpoint": plant.endpoint, "timeout_s": 5.0})
        async with SiteRuntime(settings, model=model, plant_name="the demo plant") as runtime:
            writer = await runtime.report_writer(use_model=model is not None)
            svc = await runtime.triage(writer=writer, rules=WatchRules(trend_horizon=horizon))
            await svc.run_once()  # anything the healthy plant shows is not the fault's
            t0_wall, t0_sim = time.monotonic(), plant.model.time_s
            for f in faults:
                plant.model.inject(f, FAULTS[f][0])
            pending = [Outcome(f, result.combo, seed) for f in faults]
            while pending and time.monotonic() - t0_wall < timeout_s:
                await asyncio.sleep(1.0)
                res = await svc.run_once()
                result.reports += len(res.reports)
                t_sim, t_wall = plant.model.time_s - t0_sim, time.monotonic() - t0_wall
                for out in list(pending):
                    if _judge(out, res.reports, t_sim, t_wall):
                        pending.remove(out)
                        result.outcomes.append(out)
            result.outcomes += pending
    return result


def table(outcomes: list[Outcome]) -> list[dict[str, object]]:
    """Rows per fault: runs, ranked-first rate, equipment-named rate, median times."""
    rows: list[dict[str, object]] = []
    for fault in FAULTS:
        mine = [o for o in outcomes if o.fault == fault]
        if not mine:
            continue
        times = sorted(o.sim_s_to_report for o in mine if o.sim_s_to_report is not None)
        walls = sorted(o.wall_s_to_report for o in mine if o.wall_s_to_report is not None)
        rows.append({
            "fault": fault, "runs": len(mine),
            "ranked_first": round(sum(o.ranked_first for o in mine) / len(mine), 2),
            "in_top3": round(sum(o.in_top3 for o in mine) / len(mine), 2),
            "equipment_named": round(sum(o.equipment_named for o in mine) / len(mine), 2),
            "reported": sum(o.sim_s_to_report is not None for o in mine),
            "median_sim_s_to_report": times[len(times) // 2] if times else None,
            "median_wall_s_to_report": walls[len(walls) // 2] if walls else None,
            "model_summary_kept": sum(bool(o.writer and o.writer.startswith("model:"))
                                      for o in mine),
        })
    return rows


def markdown(rows: list[dict[str, object]], title: str) -> str:
    """The table as Markdown."""
    head = ["fault", "runs", "ranked_first", "in_top3", "equipment_named", "reported",
            "median_sim_s_to_report", "median_wall_s_to_report", "model_summary_kept"]
    lines = [f"# {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(r[h]) for h in head) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def combos(pairs: int) -> list[tuple[str, ...]]:
    """Every single fault, then up to ``pairs`` pairs on different equipment."""
    singles: list[tuple[str, ...]] = [(f,) for f in FAULTS]
    both: list[tuple[str, ...]] = [
        (a, b) for a, b in itertools.combinations(FAULTS, 2)
        if equipment_of(FAULTS[a][0]) != equipment_of(FAULTS[b][0])
    ]
    step = max(1, len(both) // max(pairs, 1))
    return singles + both[::step][:pairs]


async def run_eval(
    out: Path, *, seeds: int = 3, pairs: int = 8, timeout_s: float = 40.0,
    model: ChatModel | None = None, progress: Callable[[str], None] | None = None,
) -> dict[str, object]:
    """Run every combination for every seed; write triage_eval.md/.json to ``out`` after
    each run (a stopped evaluation keeps what it measured) and return the summary."""
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    runs: list[RunResult] = []
    plan = [(c, s) for c in combos(pairs) for s in range(1, seeds + 1)]
    summary: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (combo, seed) in enumerate(plan, 1):
            home = Path(tmp) / f"site{i}"
            throwaway_site(home)
            t = time.monotonic()
            run = await run_one(combo, seed, home, timeout_s, model)
            runs.append(run)
            if progress is not None:
                got = ", ".join(f"{o.fault}->{o.top_cause}" for o in run.outcomes)
                progress(f"[{i}/{len(plan)}] {run.combo} seed {seed}: {got} "
                         f"({time.monotonic() - t:.0f} s)")
            summary = _write(out, runs, seeds, timeout_s, model)
    return summary


def _write(out: Path, runs: list[RunResult], seeds: int, timeout_s: float,
           model: ChatModel | None) -> dict[str, object]:
    outcomes = [o for r in runs for o in r.outcomes]
    single = table([o for o in outcomes if "+" not in o.combo])
    paired = table([o for o in outcomes if "+" in o.combo])
    writer = f"model {model.info.name}" if model is not None else "template"
    text = markdown(single, f"Triage eval: single faults (summaries: {writer})") + "\n" + (
        markdown(paired, "Triage eval: faults in pairs"))
    (out / "triage_eval.md").write_text(text, encoding="utf-8")
    summary: dict[str, object] = {
        "single": single, "pairs": paired, "seeds": seeds, "timeout_s": timeout_s,
        "writer": writer, "runs": [asdict(r) for r in runs],
    }
    (out / "triage_eval.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    """``python -m harness.evals.triage_eval``: the template writer, no model needed."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="directory for md + json")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per combination")
    parser.add_argument("--pairs", type=int, default=8, help="how many fault pairs")
    parser.add_argument("--timeout", type=float, default=40.0, help="wall seconds per run")
    args = parser.parse_args(argv)
    asyncio.run(run_eval(args.out, seeds=args.seeds, pairs=args.pairs, timeout_s=args.timeout,
                         progress=lambda line: print(line, file=sys.stderr, flush=True)))
    print((args.out / "triage_eval.md").read_text(encoding="utf-8"))
    return 0
