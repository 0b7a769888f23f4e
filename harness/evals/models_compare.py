"""`plantagent eval models`: approved chat models side by side on the question suites of
every test plant and the demo plant, in one run on this machine.

Each model answers the same questions on the same plants (one after the other, each on
fresh throw-away sites, the plants restarted), so their figures are comparable: right,
grounded, model steps valid the first time, and the median and 95th percentile question
time. The injection suite and triage reports per model are in `plantagent models qualify`.
"""

from __future__ import annotations

import asyncio
import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from harness.evals.plants.report import PlantResult
from harness.evals.plants.run import PlantsPlan, run_plants


@dataclass
class ModelRow:
    """One model on one plant (plant "all": every plant together)."""

    model: str
    plant: str
    questions: int
    right: int
    grounded: int
    valid_steps: int
    model_steps: int
    median_s: float
    p95_s: float
    error: str | None = None

    def as_line(self) -> str:
        """The row as a Markdown table line."""
        valid = (f"{self.valid_steps}/{self.model_steps}" if self.model_steps
                 else "no model step")
        return (f"| {self.model} | {self.plant} | {self.right}/{self.questions} | "
                f"{self.grounded}/{self.questions} | {valid} | {self.median_s:.1f} s | "
                f"{self.p95_s:.1f} s |" + (f" {self.error} |" if self.error else " |"))


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` percentile of ``values`` (nearest rank; 0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def rows_of(model: str, results: list[PlantResult]) -> list[ModelRow]:
    """A row per plant and one for all plants together."""
    rows = []
    everything = []
    for result in results:
        qs = result.questions
        everything += qs
        seconds = [q.seconds for q in qs]
        rows.append(ModelRow(
            model, result.plant, len(qs), result.right, result.grounded,
            sum(q.valid_steps for q in qs), sum(q.model_steps for q in qs),
            statistics.median(seconds) if seconds else 0.0, percentile(seconds, 0.95),
            result.error))
    seconds = [q.seconds for q in everything]
    rows.append(ModelRow(
        model, "all", len(everything), sum(q.right for q in everything),
        sum(q.grounded for q in everything), sum(q.valid_steps for q in everything),
        sum(q.model_steps for q in everything),
        statistics.median(seconds) if seconds else 0.0, percentile(seconds, 0.95)))
    return rows


def markdown(rows: list[ModelRow], header: str) -> str:
    """The comparison table."""
    lines = [f"# Models side by side\n\n{header}\n",
             "| model | plant | right | grounded | valid first-time steps | median | p95 | "
             "note |", "|---|---|---|---|---|---|---|---|"]
    lines += [r.as_line() for r in rows]
    return "\n".join(lines) + "\n"


async def compare_models(models: Sequence[str], plan: PlantsPlan, out: Path, *,
                         header: str = "",
                         progress: Callable[[str], None] = lambda _: None
                         ) -> list[ModelRow]:  # fmt: skip
    """Each model's run over ``plan``'s plants (its own tables in ``out/<model>``), then
    models.md / models.json in ``out`` (written after each model: a stopped run keeps
    what it measured)."""
    rows: list[ModelRow] = []
    for name in models:
        progress(f"{name}: the question suites")
        results = await run_plants(replace(plan, model_name=name, faults=0), out / name,
                                   header=f"Model {name}", progress=progress)
        rows += rows_of(name, results)
        await asyncio.to_thread(write, rows, out, header)
    return rows


def write(rows: list[ModelRow], out: Path, header: str) -> None:
    """models.md and models.json in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "models.md").write_text(markdown(rows, header), encoding="utf-8")
    (out / "models.json").write_text(json.dumps(
        {"header": header, "rows": [r.__dict__ for r in rows]}, indent=2), encoding="utf-8")
