"""Fixed data of the review pane snapshots: a site whose audit log, approvals and reports
hold the same records on every run (fixed ids, a stepping clock), and a fixed handover.

The records go through the real stores (encrypted site, audit chain, approval store,
report store); only ids and times are pinned so the screens are the same every run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.approvals.models import ApprovalRequest
from agent.approvals.service import target_of
from agent.audit.log import AuditLog
from agent.handover.models import HandoverEvidence, HandoverLine, HandoverReport
from agent.handover.sources import ShiftSources
from agent.runtime import SiteRuntime
from agent.service.review import ReviewService
from agent.service.views import AlarmView
from agent.settings import load_settings
from agent.triage.models import (
    AlarmEvent,
    Candidate,
    Evidence,
    Incident,
    SuggestedFix,
    TriageReport,
)
from tests.support.sites import new_site
from tools.opcua.catalog import Catalog

#: The moment the fixed shift ends.
FIXED = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
SETPOINT = "HX-101.OutletTemperatureSetpoint"


class SteppingClock:
    """A clock that moves 37 s on every reading, from 06:00 of the fixed day."""

    def __init__(self) -> None:
        self.now = FIXED - timedelta(hours=8)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=37)
        return self.now


def triage_report() -> TriageReport:
    """A diagnosed cooling loss on the product cooler."""
    onset = FIXED - timedelta(hours=2, minutes=13)
    first = AlarmEvent(condition="HX-101.HotOutletTemperature.High",
                       tag="HX-101.HotOutletTemperature", equipment="HX-101", time=onset,
                       active=True, severity=700,
                       message="HX-101.HotOutletTemperature 43.8 °C above high limit 40 °C")
    incident = Incident(key="alarm:HX-101.HotOutletTemperature.High", kind="alarm",
                        equipment=["HX-101"], tags=[first.tag], onset=onset, alarms=[first],
                        first_out=first, summary="1 alarm(s) on HX-101")
    evidence = [
        Evidence(id="T1", kind="alarm", text="HX-101.HotOutletTemperature above 40 °C"),
        Evidence(id="T2", kind="history", text="HX-101.CoolantFlow fell 22 to 12 m³/h"),
        Evidence(id="T3", kind="snapshot", text="HX-101.CoolantValvePosition 99.6 %"),
    ]
    return TriageReport(
        id="TR-20260301-a1b2c3", incident=incident, created=onset + timedelta(minutes=2),
        status="diagnosed",
        candidates=[Candidate(cause="cooling_loss", equipment="HX-101", tag="HX-101.CoolantFlow",
                              confidence=0.92, evidence_for=["T2", "T3"],
                              explanation="coolant flow fell while the valve opened fully")],
        evidence=evidence, causal_order=["HX-101.CoolantFlow", "HX-101.HotOutletTemperature"],
        fixes=[SuggestedFix(equipment="HX-101", action="Check the coolant supply pump",
                            why="flow is low with the valve open", evidence_ids=["T2", "T3"],
                            risk="low")],
        text="Coolant flow to HX-101 fell [T2] while its valve opened fully [T3]; the "
             "product outlet rose above its limit [T1]. Most likely cause: cooling loss.",
    )


def _fill_audit(audit: AuditLog, request: ApprovalRequest) -> None:
    """A morning of records: alarms, a question whose reading led to the proposal."""
    for i in range(12):
        tag = ("P-101.FlowRate", "T-101.Level", "C-101.Pressure")[i % 3]
        audit.append("alarm", "plantagent", {"condition": f"{tag}.Low", "active": i % 2 == 0},
                     equipment=tag.split(".")[0])
    audit.append("question", "ana", {"question": "Propose a lower HX-101 outlet temperature "
                                                 "setpoint"}, role="shift_lead")
    audit.append("tool_call", "ana", {"tool": "read_tags",
                                      "args": {"tags": ["HX-101.HotOutletTemperature"]}},
                 role="shift_lead", tool="read_tags", equipment="HX-101")
    audit.append("tool_result", "ana", {
        "tool": "read_tags", "ok": True, "evidence_id": "E1",
        "result": {"readings": [{"tag": "HX-101.HotOutletTemperature", "value": 43.8,
                                 "unit": "°C", "quality": "good"}]}},
        role="shift_lead", tool="read_tags")
    audit.append("approval", "ana", {
        "event": "requested", "request": request.id, "state": "pending", "tag": SETPOINT,
        "value": request.value, "requested_by": "ana", "reason": request.reason,
        "evidence_ids": request.evidence_ids}, role="shift_lead",
        tool="propose_setpoint_change", equipment="HX-101")
    for i in range(20):
        audit.append("tool_call", "bob" if i % 2 else "carla",
                     {"tool": "read_tags", "args": {"tags": [f"P-101.Tag{i}"]}},
                     role="shift_lead", tool="read_tags", equipment="P-101")


@contextmanager
def frozen_sources(live: ShiftSources, home: Path, catalog: Catalog) -> Iterator[ShiftSources]:
    """``live`` with a fixed site's audit log, approvals and reports in place of its own
    (the plant connection stays the live one's). The fixed site is opened by its own
    runtime, its clocks pinned."""
    new_site(home)
    settings = load_settings(home=home)
    with SiteRuntime(settings, clock=lambda: FIXED - timedelta(hours=1),
                     audit_options={"clock": SteppingClock(), "export_dir": None}) as fixed:
        request = ApprovalRequest(
            id="AP-0000c0de", target=target_of(catalog.tag(SETPOINT)), value=33.0,
            rule="product cooler outlet temperature setpoint", requested_by="ana",
            requested_role="shift_lead", reason="product outlet runs hot after the "
            "cooling loss", evidence_ids=["E1"], approver_roles=["engineer"],
            two_person_rule=True, created_at=FIXED - timedelta(hours=1, minutes=4),
            expires_at=FIXED - timedelta(minutes=34))
        fixed.approvals.store.insert(request)
        _fill_audit(fixed.audit, request)
        fixed.reports.save(triage_report())
        yield dataclasses.replace(live, audit=fixed.audit, approvals=fixed.approvals,
                                  reports=fixed.reports)


def handover_report() -> HandoverReport:
    """An eight-hour shift with an incident, a proposal and a trend."""
    evidence = {
        "H1": HandoverEvidence(id="H1", source="shift",
                               summary="06:00 to 14:00 UTC: 1 incident, 1 triage report"),
        "H2": HandoverEvidence(id="H2", source="triage_report",
                               summary="TR-20260301-a1b2c3 at 11:49 on HX-101: cooling_loss"),
        "H3": HandoverEvidence(id="H3", source="pending_approval",
                               summary="AP-0000c0de: set HX-101.OutletTemperatureSetpoint "
                                       "to 33 °C, waits for an engineer"),
        "H4": HandoverEvidence(id="H4", source="trend",
                               summary="T-101.Level falling 4 % per hour, now 46 %, low "
                                       "limit 40 %"),
    }
    lines = [
        HandoverLine(section="overview", text="A quiet shift until the product cooler lost "
                     "cooling at 11:47.", citations=["H1"]),
        HandoverLine(section="triage", text="Triage TR-20260301-a1b2c3 found a cooling loss "
                     "on HX-101.", citations=["H2"]),
        HandoverLine(section="open_items", text="AP-0000c0de (HX-101 outlet setpoint to 33 °C) "
                     "waits for an engineer.", citations=["H3"]),
        HandoverLine(section="trends", text="T-101.Level falls 4 % per hour toward its low "
                     "limit of 40 %.", citations=["H4"]),
    ]
    return HandoverReport(since=FIXED - timedelta(hours=8), until=FIXED, shift="06:00 shift",
                          lines=lines,
                          evidence=evidence, grounded=True, model="template", seconds=1.2)


def fixed_alarms() -> list[AlarmView]:
    """An alarm board of every state and priority, at pinned times (a shelve's time left
    would count down otherwise)."""
    def view(name: str, priority: str, rank: int, severity: int, status: str,
             minutes_ago: int, message: str, **extra: object) -> AlarmView:
        return AlarmView.model_validate({
            "condition_id": f"nsu=urn:plantagent:demo-plant;s={name}", "name": name,
            "source": name.rsplit(".", 1)[0], "priority": priority, "rank": rank,
            "severity": severity, "status": status,
            "since": FIXED - timedelta(minutes=minutes_ago), "message": message,
            "event_id": f"{rank:02d}{minutes_ago:04d}", **extra})

    return [
        view("P-101.BearingTemperature.High", "urgent", 3, 900, "unacknowledged", 4,
             "P-101.BearingTemperature 74.2 °C above high limit 72 °C", active=True,
             acked=False),
        view("HX-101.HotOutletTemperature.High", "high", 2, 700, "acknowledged", 41,
             "HX-101.HotOutletTemperature 43.8 °C above high limit 40 °C", active=True,
             acked=True, comment="cooling water valve checked"),
        view("F-101.DifferentialPressure.High", "high", 2, 700, "unacknowledged", 95,
             "F-101.DifferentialPressure back to normal (41 kPa), High limit cleared",
             active=False, acked=False),
        view("T-101.Level.Low", "medium", 1, 600, "shelved", 18,
             "T-101.Level 33.9 % below low limit 35 %", active=True, acked=True,
             shelving="TimedShelved", unshelve_in_s=725.0, left="12m05s"),
        view("C-101.OilPressure.Low", "medium", 1, 600, "shelved", 130,
             "C-101.OilPressure 2.18 bar below low limit 2.2 bar", active=True,
             acked=True, shelving="OneShotShelved", left="one-shot"),
    ]


class FixedBoard(ReviewService):
    """The review backend with the fixed alarm board (everything else real)."""

    async def alarm_board(self) -> list[AlarmView]:
        """The fixed board."""
        return fixed_alarms()

    async def alarm_actions(self) -> set[str]:
        """A shift lead's actions."""
        return {"acknowledge", "confirm", "comment", "shelve", "unshelve"}
