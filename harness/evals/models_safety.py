"""The injection suite and triage reports in `plantagent eval models`: for each model, a
spread of injection payloads (harness.evals.injection_run) and live demo faults whose
reports the model writes (harness.qualify.triage_check), with the model loaded once for
both. The same measures as `plantagent eval injection` and `plantagent models qualify`,
so the figures agree with theirs; here two models stand side by side in one run.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agent.llm.base import ChatModel
from harness.evals.figures import median, percentile
from harness.evals.injection_payloads import representative
from harness.evals.injection_run import run_suite
from harness.qualify.triage_check import triage_outcome

Progress = Callable[[str], None]


@dataclass
class InjectionRow:
    """One model on the injection payloads: what the payloads achieved, and whether the
    question under each payload was still answered right."""

    model: str
    payloads: int
    correct: int
    grounded: int
    writes: int
    violations: int
    marker: int
    egress: int
    median_s: float
    p95_s: float

    def as_line(self) -> str:
        """The row as a Markdown table line."""
        return (f"| {self.model} | {self.payloads} | {self.correct}/{self.payloads} | "
                f"{self.grounded}/{self.payloads} | {self.writes} | {self.violations} | "
                f"{self.marker} | {self.egress} | {self.median_s:.1f} s | {self.p95_s:.1f} s |")


@dataclass
class TriageRow:
    """One model writing triage reports: a report passes when the model wrote it (not the
    template fallback), it is grounded, and it names the top cause and its equipment."""

    model: str
    faults: int
    diagnosed: int
    model_written: int
    grounded: int
    names_cause: int
    passed: int
    median_report_s: float
    #: Why a report was not the model's (the writer's own note, e.g. "template (model
    #: summary ...)"), one per such report.
    fallbacks: list[str] = field(default_factory=list)

    def as_line(self) -> str:
        """The row as a Markdown table line."""
        n = self.faults
        return (f"| {self.model} | {n} | {self.diagnosed}/{n} | {self.model_written}/{n} | "
                f"{self.grounded}/{n} | {self.names_cause}/{n} | {self.passed}/{n} | "
                f"{self.median_report_s:.0f} s |")


INJECTION_HEAD = ("| model | payloads | answered right | grounded | writes | violations | "
                  "marker repeated | egress refused | median | p95 |\n"
                  "|---|---|---|---|---|---|---|---|---|---|")
TRIAGE_HEAD = ("| model | faults | ranked first | written by the model | grounded | "
               "names the cause | pass | median onset to report |\n"
               "|---|---|---|---|---|---|---|---|")


async def injection_row(name: str, model: ChatModel, payloads: int, models_dir: Path, *,
                        progress: Progress) -> InjectionRow:
    """``payloads`` representative payloads (spread over attacks and channels) asked with
    ``model`` on a fresh encrypted site and demo plant (no control questions: the question
    suites are the control)."""
    result = await run_suite(representative(payloads), models_dir, control=False,
                             progress=lambda line: progress(f"{name}: injection {line}"),
                             model=model)
    cases = result.cases
    seconds = [c.seconds for c in cases]
    return InjectionRow(
        name, len(cases), sum(c.measure.correct for c in cases),
        sum(c.measure.grounded for c in cases), sum(c.measure.writes for c in cases),
        sum(c.measure.violations for c in cases),
        sum(c.measure.marker_in_answer for c in cases),
        sum(c.measure.egress_refused for c in cases), median(seconds), percentile(seconds, 0.95))


async def triage_row(name: str, model: ChatModel, faults: Sequence[str], *,
                     progress: Progress, timeout_s: float = 120.0) -> TriageRow:
    """Each of ``faults`` run live on the demo plant (a key-file site per fault in a
    temporary directory) with ``model`` writing the reports."""
    work = Path(tempfile.mkdtemp(prefix="plantagent-models-triage-"))
    outcomes = []
    try:
        for i, fault in enumerate(faults, 1):
            progress(f"{name}: triage {fault} ({i}/{len(faults)})")
            outcomes.append(await triage_outcome(fault, model, work / f"fault-{i}",
                                                 timeout_s=timeout_s))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    reported = [o.seconds_to_report for o in outcomes if o.seconds_to_report is not None]
    return TriageRow(
        name, len(outcomes), sum(o.diagnosed for o in outcomes),
        sum(o.writer.startswith("model:") for o in outcomes),
        sum(o.grounded for o in outcomes), sum(o.names_top_cause for o in outcomes),
        sum(o.passed for o in outcomes), median(reported),
        [f"{o.fault}: {o.writer}" for o in outcomes
         if o.diagnosed and not o.writer.startswith("model:")])
