"""`plantagent eval models`: approved chat models side by side on the question suites of
every test plant and the demo plant, the injection suite and triage reports, in one run on
this machine.

Each model answers the same questions on the same plants (one after the other, each on
fresh throw-away sites, the plants restarted), so their figures are comparable: right,
grounded, model steps valid the first time, and the median and 95th percentile question
time. Then, with the model loaded once, the same spread of injection payloads and the same
live demo faults whose reports it writes (harness.evals.models_safety).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from agent.errors import UsageError
from agent.llm.base import ChatModel
from agent.runtime.model import shared_chat_model
from agent.settings import load_settings
from harness.evals.figures import median, percentile
from harness.evals.models_safety import (
    INJECTION_HEAD,
    TRIAGE_HEAD,
    InjectionRow,
    TriageRow,
    injection_row,
    triage_row,
)
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


@dataclass
class Comparison:
    """Everything one run measured, per model."""

    questions: list[ModelRow] = field(default_factory=list)
    injection: list[InjectionRow] = field(default_factory=list)
    triage: list[TriageRow] = field(default_factory=list)


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
            median(seconds), percentile(seconds, 0.95),
            result.error))
    seconds = [q.seconds for q in everything]
    rows.append(ModelRow(
        model, "all", len(everything), sum(q.right for q in everything),
        sum(q.grounded for q in everything), sum(q.valid_steps for q in everything),
        sum(q.model_steps for q in everything),
        median(seconds), percentile(seconds, 0.95)))
    return rows


def markdown(result: Comparison, header: str) -> str:
    """The comparison tables."""
    lines = [f"# Models side by side\n\n{header}\n", "## Question suites\n",
             "| model | plant | right | grounded | valid first-time steps | median | p95 | "
             "note |", "|---|---|---|---|---|---|---|---|"]
    lines += [r.as_line() for r in result.questions]
    if result.injection:
        lines += ["", "## Injection payloads\n", INJECTION_HEAD]
        lines += [r.as_line() for r in result.injection]
    if result.triage:
        lines += ["", "## Triage reports written by the model\n", TRIAGE_HEAD]
        lines += [r.as_line() for r in result.triage]
        notes = [f"- {r.model}, {note}" for r in result.triage for note in r.fallbacks]
        if notes:
            lines += ["", "Reports the template wrote instead of the model, and why:", *notes]
    return "\n".join(lines) + "\n"


def _load(name: str, plan: PlantsPlan) -> ChatModel:
    """``name`` from the manifest, outside any site (its file verified on load)."""
    model: dict[str, object] = {"name": name, "threads": plan.threads}
    if plan.models_dir is not None:
        model["directory"] = str(plan.models_dir)
    with tempfile.TemporaryDirectory(prefix="plantagent-models-") as home:
        return shared_chat_model(load_settings(home=Path(home), model=model))


async def compare_models(models: Sequence[str], plan: PlantsPlan, out: Path, *,
                         header: str = "", injection: int = 0,
                         triage_faults: Sequence[str] = (),
                         progress: Callable[[str], None] = lambda _: None
                         ) -> Comparison:  # fmt: skip
    """Each model's run over ``plan``'s plants (its own tables in ``out/<model>``), then
    ``injection`` payloads and ``triage_faults`` with the model loaded once; models.md /
    models.json in ``out`` are written after each part (a stopped run keeps what it
    measured). ``plan.model``, when given, stands in for every model (tests)."""
    if injection and plan.models_dir is None:
        raise UsageError("the injection payloads need the models directory (the manuals are "
                         "indexed with its embedding model)",
                         fix="give the plan's models_dir (--models-dir)")
    result = Comparison()
    for name in models:
        progress(f"{name}: the question suites")
        # Every question goes to the model: it is the model that is compared.
        results = await run_plants(replace(plan, model_name=name, faults=0,
                                           plain_readings=False), out / name,
                                   header=f"Model {name}", progress=progress)
        result.questions += rows_of(name, results)
        await asyncio.to_thread(write, result, out, header)
        if not injection and not triage_faults:
            continue
        model = (plan.model if plan.model is not None
                 else await asyncio.to_thread(_load, name, plan))
        try:
            if injection:
                assert plan.models_dir is not None  # checked above
                result.injection.append(await injection_row(name, model, injection,
                                                            plan.models_dir,
                                                            progress=progress))
                await asyncio.to_thread(write, result, out, header)
            if triage_faults:
                result.triage.append(await triage_row(name, model, triage_faults,
                                                      progress=progress))
                await asyncio.to_thread(write, result, out, header)
        finally:
            if plan.model is None:
                model.close()
    return result


def write(result: Comparison, out: Path, header: str) -> None:
    """models.md and models.json in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "models.md").write_text(markdown(result, header), encoding="utf-8")
    (out / "models.json").write_text(json.dumps(
        {"header": header, "rows": [r.__dict__ for r in result.questions],
         "injection": [r.__dict__ for r in result.injection],
         "triage": [r.__dict__ for r in result.triage]}, indent=2), encoding="utf-8")
