"""Helpers of the handover tests: a demo plant with a fault history, a shift's worth of
activity on a real site (a triage pass, approvals decided and executed, questions), and
scripted model output."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.approvals.executor import ApprovedWriteExecutor
from agent.handover.sources import ShiftSources
from agent.llm.scripted import ScriptedModel
from agent.runtime import SiteRuntime
from agent.settings import Settings
from agent.triage.store import ReportStore
from tests.support.people import Staff
from tests.support.plants import faulted_plant
from tests.support.sites import site_settings as shared_settings

LEAD = "lena-lead"
ENGINEER = "erin-engineer"
#: An hour of history: a conveyor jam two minutes before its end (alarms), a filter
#: clogging long enough to head for its differential pressure limit (a trend).
FAULTS = [("conveyor_jam", "CV-101", 120.0), ("filter_clogging", "F-101", 2900.0)]


def demo_plant(faults: list[tuple[str, str, float]]) -> Any:
    """A demo plant whose hour of pre-filled history ends ``lead`` seconds after each
    (fault, target, lead) started; it runs on in real time."""
    return faulted_plant(faults, history_hours=1.0)


def site_settings(home: Path, endpoint: str, **overrides: Any) -> Settings:
    """Settings of a test site talking to ``endpoint``, the shift lead asking."""
    return shared_settings(home, endpoint, user=LEAD, **overrides)


def _final(text: str, *cites: str) -> dict[str, Any]:
    return {"action": "final_answer", "answer": text, "citations": list(cites)}


@dataclass
class Work:
    """The triage and approval activity of a shift."""

    reports: ReportStore
    report_ids: list[str]
    executed: str  # the approval request written to the plant
    denied: str
    undo: str  # the pending request the executor offered to undo the write


async def do_work(runtime: SiteRuntime) -> Work:
    """One triage pass (reports saved), a setpoint change proposed, approved and written,
    another denied."""
    catalog, approvals = await runtime.catalog(), runtime.approvals
    service = await runtime.triage()
    passed = await service.run_once()
    assert passed.reports, "the conveyor jam should give a triage report"
    change = approvals.propose_for_tag(
        actor=LEAD, role="shift_lead", catalog=catalog, tag="HX-101.OutletTemperatureSetpoint",
        value=34.0, reason="product runs warm", evidence_ids=[])
    staff = Staff(runtime.people, runtime.settings.home / "people-keys",
                  ["shift_lead", "engineer"])
    approvals.approve(change.id, staff(ENGINEER, "engineer"))
    outcome = await ApprovedWriteExecutor(approvals, await runtime.connection()).execute(
        change.id, staff(ENGINEER, "engineer"))
    assert outcome.undo_request is not None
    refused = approvals.propose_for_tag(
        actor=LEAD, role="shift_lead", catalog=catalog, tag="T-101.LevelSetpoint",
        value=55.0, reason="more buffer", evidence_ids=[])
    approvals.deny(refused.id, staff(ENGINEER, "engineer"), note="not now")
    return Work(runtime.reports, [r.id for r in passed.reports], change.id, refused.id,
                outcome.undo_request)


@dataclass
class Shift(Work):
    """The work of a shift and the questions asked in it."""

    questions: int = 0


async def run_shift(runtime: SiteRuntime, model: ScriptedModel) -> Shift:
    """The work of a shift plus two questions answered (scripted model)."""
    work = await do_work(runtime)
    agent = await runtime.agent()
    # Both ask only for a value: the system answers each from its prefetched read (E1)
    # without a model step (agent/pipeline/plain_reading.py).
    await agent.ask("What is the flow of P-101?", actor=LEAD, role="shift_lead")
    await agent.ask("What is the belt speed of CV-101?", actor="otto-operator",
                    role="shift_lead")
    return Shift(work.reports, work.report_ids, work.executed, work.denied, work.undo,
                 questions=2)


@dataclass
class Opened:
    """An open site runtime, what a handover reads from it, its scripted model and
    settings, and the shift it lived."""

    runtime: SiteRuntime
    sources: ShiftSources
    model: ScriptedModel
    settings: Settings
    shift: Shift
