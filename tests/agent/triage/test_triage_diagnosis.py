"""The right cause ranked first, on a real demo plant whose history holds the fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from .triage_testing import faulted_plant, open_service

#: (fault, target, simulated seconds of development in the history)
CASES = [
    ("bearing_wear", "P-101", 9000.0),
    ("filter_clogging", "F-101", 6000.0),
    ("cooling_loss", "HX-101", 500.0),
    ("hx_fouling", "HX-101", 8000.0),
    ("conveyor_jam", "CV-101", 60.0),
    ("compressor_valve_leak", "C-101", 2200.0),
    ("feed_valve_stuck", "T-101", 500.0),
    ("sensor_drift", "P-101.DischargePressure", 4500.0),
]


@pytest.mark.parametrize(("fault", "target", "lead"), CASES, ids=[c[0] for c in CASES])
async def test_triage_ranks_the_injected_fault_first(
    site_home: Path, fault: str, target: str, lead: float
) -> None:
    equipment = target.split(".")[0]
    async with faulted_plant([(fault, target, lead)]) as plant, open_service(
        site_home, plant.endpoint
    ) as opened:
        result = await opened.service.run_once()
    assert result.error is None
    about = [r for r in result.reports if r.candidates and r.candidates[0].equipment == equipment]
    assert about, [(r.incident.summary, r.candidates[:1]) for r in result.reports]
    top = about[0].candidates[0]
    assert top.cause == fault
    assert about[0].status == "diagnosed"
    assert top.evidence_for, "a cause without evidence"
    cited = {e.id for e in about[0].evidence}
    assert set(top.evidence_for) <= cited


async def test_triage_stuck_sensor_is_not_a_process_fault(site_home: Path) -> None:
    async with faulted_plant(
        [("stuck_sensor", "HX-101.HotOutletTemperature", 900.0)]
    ) as plant, open_service(site_home, plant.endpoint) as opened:
        result = await opened.service.run_once()
    about = [r for r in result.reports if "HX-101" in r.incident.equipment]
    assert len(about) == 1
    report = about[0]
    top = report.candidates[0]
    assert (top.cause, top.tag, top.process_fault) == (
        "stuck_sensor", "HX-101.HotOutletTemperature", False)
    assert all(c.confidence < top.confidence for c in report.candidates if c.process_fault)
    assert "instrument fault" in report.text


async def test_triage_trend_caught_before_the_limit(site_home: Path) -> None:
    # The compressor's discharge temperature is climbing but has not crossed its limit.
    async with faulted_plant([("compressor_valve_leak", "C-101", 1000.0)]) as plant:
        assert not [a for a in plant.active_alarms() if a.startswith("C-101")]
        async with open_service(site_home, plant.endpoint) as opened:
            result = await opened.service.run_once()
    trend = [r for r in result.reports if r.incident.kind == "trend"]
    assert [r.incident.equipment for r in trend] == [["C-101"]]
    assert "heading for its High limit" in trend[0].incident.summary
    assert trend[0].candidates[0].cause == "compressor_valve_leak"
