"""Triage and shelving: a chattering alarm with a known cause gets a suggested timed
shelve (never performed); a shelved alarm is left alone until its condition worsens,
then raised again (live, against the demo plant)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.triage.models import AlarmEvent, Candidate, Incident, TriageReport
from agent.triage.playbook import suggested_shelves
from agent.triage.render import markdown
from agent.triage.shelved import SHELVED_WORSE
from agent.triage.watcher import Watcher, WatchRules
from plant.server import DemoPlantServer
from tools.opcua.browse import browse_catalog
from tools.opcua.client import OpcUaConnection

from .triage_testing import WAIT_S, faulted_plant, settings_for

NAME = "HX-101.HotOutletTemperature.High"


def _report(status: str, flapping: list[str]) -> TriageReport:
    now = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    event = AlarmEvent(condition="LT-7.Level.High", tag="LT-7.Level", equipment="LT-7",
                       time=now, active=True, severity=500)
    incident = Incident(key="k", kind="alarm", equipment=["LT-7"], tags=["LT-7.Level"],
                        onset=now, alarms=[event], flapping=flapping)
    top = Candidate(cause="sensor_noise", equipment="LT-7", tag="LT-7.Level",
                    process_fault=False, confidence=0.8, evidence_for=["T2", "T3"])
    return TriageReport(id="TR-1", incident=incident, created=now, status=status,
                        candidates=[top], evidence=[])


def test_a_chattering_alarm_with_a_known_cause_gets_a_suggested_shelve() -> None:
    report = _report("diagnosed", ["LT-7.Level.High"])
    report.shelves = suggested_shelves(report, {"LT-7.Level.High": "T1"})
    [shelve] = report.shelves
    assert shelve.condition == "LT-7.Level.High" and shelve.minutes == 60
    assert shelve.evidence_ids == ["T1", "T2", "T3"]
    assert "sensor_noise on LT-7.Level" in shelve.reason
    assert shelve.command.startswith("plantagent alarms shelve LT-7.Level.High --for 60m")
    text = markdown(report)
    assert "## Suggested shelve (nothing was shelved" in text
    # No known cause, or nothing chattering: nothing to suggest.
    assert suggested_shelves(_report("insufficient_evidence", ["LT-7.Level.High"]), {}) == []
    assert suggested_shelves(_report("diagnosed", []), {}) == []


@pytest.mark.asyncio
async def test_a_shelved_alarm_is_raised_again_when_it_worsens(home: Path) -> None:
    # The cooler loses its cooling 6 simulated minutes before the start: the outlet is just
    # above its 40 degC limit and climbing (about 47 degC four minutes later).
    async with faulted_plant([("cooling_loss", "HX-101", 360.0)], speed=10.0) as plant:
        await check_shelved_alarm(plant, home)


async def check_shelved_alarm(plant: DemoPlantServer, home: Path) -> None:
    """Shelve the cooler's alarm; scan until it has worsened enough to come back."""
    async with OpcUaConnection.from_settings(settings_for(home, plant.endpoint)) as conn:
        catalog = await browse_catalog(conn)
        watcher = Watcher(conn, catalog, settings_for(home, plant.endpoint).opcua,
                          clock=lambda: datetime.now(UTC),
                          rules=WatchRules(trends=False, deviation=0.3))
        for _ in range(int(WAIT_S * 4)):
            if plant.conditions[NAME].active:
                break
            await asyncio.sleep(0.25)
        assert plant.conditions[NAME].active
        raised = plant.conditions[NAME].active_time
        await plant.act_as_of(datetime.now(UTC), NAME,
                              lambda book: book.timed_shelve(NAME, 3600_000))
        at_shelve = [i.key for i in await watcher.scan()]
        assert not any(NAME in k for k in at_shelve), at_shelve  # left alone
        assert [a.shelved for a in watcher.shelved] == [True]

        deadline = asyncio.get_running_loop().time() + WAIT_S
        keys: list[str] = []
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(1.0)
            incidents = await watcher.scan()
            keys = [i.key for i in incidents if i.key.startswith(SHELVED_WORSE)]
            if keys:
                break
        assert keys and keys[0].startswith(f"{SHELVED_WORSE}{NAME}:")
        incident = next(i for i in incidents if i.key == keys[0])
        assert "worsened" in incident.summary and incident.equipment == ["HX-101"]
        assert raised is not None and raised < datetime.now(UTC) - timedelta(seconds=1)
