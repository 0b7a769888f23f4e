"""The triage service end to end: stored reports, restarts, server loss, unknown equipment,
audit, and the model writer with its grounding check."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agent.errors import ModelError
from agent.llm.scripted import ScriptedModel
from agent.triage.models import AlarmEvent, Incident
from agent.triage.writer import ModelWriter

from .triage_testing import faulted_plant, open_service

COOLING = [("cooling_loss", "HX-101", 500.0)]


async def test_triage_restart_does_not_report_again(site_home: Path) -> None:
    async with faulted_plant(COOLING) as plant:
        async with open_service(site_home, plant.endpoint) as first:
            made = await first.service.run_once()
        assert [r.candidates[0].cause for r in made.reports] == ["cooling_loss"]
        # A new process: new connection, site unlocked again, same alarms still active.
        async with open_service(site_home, plant.endpoint) as second:
            again = await second.service.run_once()
            stored = second.runtime.reports.list()
    assert again.reports == []
    assert again.skipped >= 1
    assert [r.id for r in stored] == [made.reports[0].id]


async def test_triage_report_stored_encrypted_with_evidence(site_home: Path) -> None:
    async with faulted_plant(COOLING) as plant, open_service(site_home, plant.endpoint) as opened:
        made = await opened.service.run_once()
        store = opened.runtime.reports
        report, text = store.get(made.reports[0].id)
        records = opened.runtime.audit.search()
    assert report.status == "diagnosed"
    assert "## Evidence" in text and "cooling_loss" in text
    assert report.fixes and report.fixes[0].evidence_ids
    assert set(report.fixes[0].evidence_ids) <= {e.id for e in report.evidence}
    kinds = {(r.kind, r.payload.get("step")) for r in records}
    assert ("alarm", None) in kinds
    assert {("triage", s) for s in ("scope", "gather", "diagnose", "report")} <= kinds
    # Encrypted at rest: the cause is nowhere in the database file's bytes.
    raw = (site_home / "data").glob("reports*")
    assert all(b"cooling_loss" not in p.read_bytes() for p in raw)


async def test_triage_server_lost_mid_triage_says_what_was_not_checked(site_home: Path) -> None:
    async with faulted_plant(COOLING) as plant, open_service(site_home, plant.endpoint) as opened:
        incidents = await opened.service.watcher.scan()
        assert incidents
        await plant.stop()  # the server goes away between the scan and the playbook
        report = await opened.service.playbook.run(incidents[0])
    assert report.status == "insufficient_evidence"
    gaps = " ".join(report.not_checked)
    assert "current values" in gaps and "history of" in gaps
    assert "Could not check" in report.text


async def test_triage_unknown_equipment_is_reported_not_crashed(site_home: Path) -> None:
    now = datetime.now(UTC)
    stray = AlarmEvent(condition="XV-900.Position.High", tag="XV-900.Position",
                       equipment=None, time=now, active=True, message="valve position high")
    incident = Incident(key="alarm:XV-900", kind="alarm", equipment=[], tags=[stray.tag],
                        onset=now, alarms=[stray], first_out=stray,
                        unknown_sources=[stray.tag], summary="1 alarm(s) on XV-900.Position")
    async with faulted_plant([], history_hours=0.5) as plant, open_service(
        site_home, plant.endpoint
    ) as opened:
        report = await opened.service.playbook.run(incident)
    assert report.status == "insufficient_evidence"
    assert report.candidates == []
    assert any("XV-900.Position: not in the plant's catalog" in g for g in report.not_checked)
    assert report.next_checks


async def test_triage_model_writer_is_grounded_or_falls_back(site_home: Path) -> None:
    model = ScriptedModel([
        {"summary": "Loss of cooling water on HX-101 [T3]; coolant flow fell 97 percent."},
        {"summary": "Loss of cooling water on HX-101 [T3]; coolant flow fell 97 percent."},
        ModelError("model crashed", fix="restart"),
    ])
    async with faulted_plant(COOLING) as plant, open_service(site_home, plant.endpoint) as opened:
        writer = ModelWriter(model, tag_names=opened.catalog.tag_names(),
                             equipment_names=opened.catalog.equipment_names())
        opened.service.playbook.writer = writer
        incidents = await opened.service.watcher.scan()
        written = await opened.service.playbook.run(incidents[0])
        fallback = await opened.service.playbook.run(incidents[0])
        model_calls = opened.runtime.audit.search(kind="model_call")
    # The invented 97 went back once; the redraft repeated it: the template writes it,
    # never a marked model text.
    assert written.writer.startswith("template (model summary") and "97" in written.writer
    assert written.grounded and "[unverified" not in written.text and "97" not in written.text
    assert "cooling_loss" in written.text
    assert fallback.writer.startswith("template (model failed") and "cooling_loss" in fallback.text
    # The playbook's audit log holds the model calls.
    assert [r.payload["purpose"] for r in model_calls] == ["draft", "redraft"]
