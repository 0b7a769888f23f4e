"""Triage time from fault onset to report, live against the demo plant.

Each fault runs through the triage evaluation's live run (harness.evals.triage_eval.run_one:
a demo plant fast-forwarded so the symptoms develop in about WALL_TARGET_S of wall time,
triage passes every second, the deterministic writer); the time from injection to the
first report holding the fault is taken in wall and in simulated seconds (what a plant at
speed 1 would see). The ratio puts the wall time triage needed next to the wall time the
symptoms take to develop.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from harness.bench.result import BenchResult
from harness.evals.triage_eval import FAULTS, WALL_TARGET_S, run_one
from harness.sites import throwaway_site

Say = Callable[[str], None]


async def run(faults: tuple[str, ...] = tuple(FAULTS), timeout_s: float = 40.0,
              say: Say = lambda _: None) -> BenchResult:
    """Onset-to-report times of each fault, and their medians."""
    result = BenchResult("triage", f"triage, fault onset to report ({len(faults)} faults, "
                         "deterministic writer)", params={"faults": list(faults)})
    walls: list[float] = []
    sims: list[float] = []
    first = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, fault in enumerate(faults, 1):
            home = Path(tmp) / f"site{i}"
            throwaway_site(home)
            got = (await run_one((fault,), 1, home, timeout_s)).outcomes[0]
            if got.wall_s_to_report is None or got.sim_s_to_report is None:
                say(f"{fault}: no report within {timeout_s:.0f} s")
                result.notes.append(f"{fault}: no report within {timeout_s:.0f} s")
                continue
            first += got.ranked_first
            say(f"{fault}: {got.wall_s_to_report:.1f} s wall, {got.sim_s_to_report:.0f} s "
                f"simulated, ranked {'first' if got.ranked_first else 'in the top three'}")
            walls.append(got.wall_s_to_report)
            sims.append(got.sim_s_to_report)
            result.add(f"{fault}: onset to report (wall)", got.wall_s_to_report, "s")
    if walls:
        result.add("median, wall", statistics.median(walls), "s")
        result.add("median, simulated", statistics.median(sims), "s")
        result.ratio("onset-to-report / symptom development (wall s)",
                     statistics.median(walls), WALL_TARGET_S,
                     f"{len(walls)}/{len(faults)} reported, {first} ranked first")
    return result
