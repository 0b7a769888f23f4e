"""Triage in a qualification: the diagnosis is deterministic; what the model changes is
the written report. Each fault runs through the triage evaluation's live run
(harness.evals.triage_eval.run_one: a fast-forwarded demo plant, triage passes every
second) with the model under test writing the reports; the first report that ranks the
fault first is then read back from the run's report store and judged: it passes when the
model wrote it (agent.triage.writer.ModelWriter, not the template fallback), it is
grounded, and it names the top cause and its equipment.
"""

from __future__ import annotations

from pathlib import Path

from agent.llm.base import ChatModel
from agent.qualification.record import TriageOutcome
from agent.runtime import SiteRuntime
from agent.settings import load_settings
from agent.triage.models import TriageReport
from agent.triage.playbook import MIN_CONFIDENCE
from harness.evals.triage_eval import FAULTS, equipment_of, run_one
from harness.sites import throwaway_site

#: The faults of a quick run: one that shows in seconds, one that develops.
QUICK_FAULTS = ("conveyor_jam", "cooling_loss")


def names_cause(text: str, report: TriageReport) -> bool:
    """The text names the report's top cause (as written or in words) and its equipment."""
    top = report.candidates[0]
    lowered = text.lower()
    cause = top.cause.lower()
    return (cause in lowered or cause.replace("_", " ") in lowered) and top.equipment in text


def ranking_report(home: Path, fault: str) -> TriageReport | None:
    """The oldest stored report of the site at ``home`` ranking ``fault`` first."""
    equipment = equipment_of(FAULTS[fault][0])
    with SiteRuntime(load_settings(home=home)) as runtime:
        reports = runtime.reports.list(limit=200)
    ranking = [r for r in reports if r.candidates and r.candidates[0].cause == fault
               and r.candidates[0].equipment == equipment
               and r.candidates[0].confidence >= MIN_CONFIDENCE]
    return min(ranking, key=lambda r: r.created) if ranking else None


async def triage_outcome(fault: str, model: ChatModel, home: Path, *,
                         timeout_s: float = 120.0) -> TriageOutcome:
    """Run ``fault`` live in a new key-file site at ``home`` with ``model`` writing the
    reports, and judge the first report that ranks it first."""
    throwaway_site(home)
    run = await run_one((fault,), 1, home, timeout_s, model=model)
    got = run.outcomes[0]
    out = TriageOutcome(fault=fault, equipment=equipment_of(FAULTS[fault][0]),
                        diagnosed=got.ranked_first, top_cause=got.top_cause,
                        seconds_to_report=got.wall_s_to_report)
    report = ranking_report(home, fault) if got.ranked_first else None
    if report is None:
        return out
    out.writer = report.writer
    out.grounded = report.grounded
    out.names_top_cause = names_cause(report.text, report)
    out.passed = report.writer.startswith("model:") and report.grounded and out.names_top_cause
    return out
