"""Helpers of the handover tests: a demo plant with a fault history, a shift's worth of
activity on a real site (a triage pass, approvals decided and executed, questions), and
scripted model output."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.approvals.executor import ApprovedWriteExecutor
from agent.compose import AgentSession
from agent.llm.scripted import ScriptedModel
from agent.settings import Settings, SimSettings, load_settings
from agent.triage.compose import build_service
from agent.triage.store import ReportStore
from agent.vault import KdfParams, init_site
from plant.scheduled import ScheduledFault, ScheduledPlantModel
from plant.server import DemoPlantServer

LEAD = "lena-lead"
ENGINEER = "erin-engineer"
#: An hour of history: a conveyor jam two minutes before its end (alarms), a filter
#: clogging long enough to head for its differential pressure limit (a trend).
FAULTS = [("conveyor_jam", "CV-101", 120.0), ("filter_clogging", "F-101", 2900.0)]


@asynccontextmanager
async def demo_plant(faults: list[tuple[str, str, float]]) -> AsyncIterator[DemoPlantServer]:
    """A demo plant whose hour of pre-filled history ends ``lead`` seconds after each
    (fault, target, lead) started; it runs on in real time."""
    hours = 1.0
    sim = SimSettings(port=0, speed=1.0, history_hours=hours, history_period_s=10.0, seed=3)
    server = DemoPlantServer(sim, publish_interval_s=0.25)
    server.model = ScheduledPlantModel(
        [ScheduledFault(f, t, hours * 3600.0 - lead) for f, t, lead in faults], seed=3)
    async with server:
        yield server


def new_site(home: Path) -> Path:
    """A fresh demo-key site (cheap KDF)."""
    init_site(home, demo_keyfile=True, kdf=KdfParams(n=2**10, r=8, p=1))
    return home


def site_settings(home: Path, endpoint: str, **overrides: Any) -> Settings:
    """Settings of a test site talking to ``endpoint``."""
    return load_settings(home=home, opcua={"endpoint": endpoint, "timeout_s": 3.0},
                         agent={"user": LEAD, "role": "shift_lead"}, **overrides)


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


async def do_work(session: AgentSession, settings: Settings) -> Work:
    """One triage pass (reports saved), a setpoint change proposed, approved and written,
    another denied."""
    catalog = session.agent.deps.catalog
    service = build_service(settings, session.site, session.connection, catalog,
                            audit=session.audit)
    passed = await service.run_once()
    assert passed.reports, "the conveyor jam should give a triage report"
    change = session.approvals.propose_for_tag(
        actor=LEAD, role="shift_lead", catalog=catalog, tag="HX-101.OutletTemperatureSetpoint",
        value=34.0, reason="product runs warm", evidence_ids=[])
    session.approvals.approve(change.id, user=ENGINEER, role="engineer")
    outcome = await ApprovedWriteExecutor(session.approvals, session.connection).execute(
        change.id, user=ENGINEER, role="engineer")
    assert outcome.undo_request is not None
    refused = session.approvals.propose_for_tag(
        actor=LEAD, role="shift_lead", catalog=catalog, tag="T-101.LevelSetpoint",
        value=55.0, reason="more buffer", evidence_ids=[])
    session.approvals.deny(refused.id, user=ENGINEER, role="engineer", note="not now")
    return Work(service.store, [r.id for r in passed.reports], change.id, refused.id,
                outcome.undo_request)


@dataclass
class Shift(Work):
    """The work of a shift and the questions asked in it."""

    questions: int = 0


async def run_shift(session: AgentSession, settings: Settings, model: ScriptedModel) -> Shift:
    """The work of a shift plus two questions answered (scripted model)."""
    work = await do_work(session, settings)
    # The loop prefetches the obvious read (E1); the scripted model answers from it.
    model.enqueue(_final("P-101.FlowRate was read; it is inside its range.", "E1"))
    model.enqueue(_final("CV-101.BeltSpeed was read.", "E1"))
    await session.agent.ask("What is the flow of P-101?", actor=LEAD, role="shift_lead")
    await session.agent.ask("What is the belt speed of CV-101?", actor="otto-operator",
                            role="shift_lead")
    return Shift(work.reports, work.report_ids, work.executed, work.denied, work.undo,
                 questions=2)


@dataclass
class Opened:
    """An open session, its scripted model and settings, and the shift it lived."""

    session: AgentSession
    model: ScriptedModel
    settings: Settings
    shift: Shift
