"""Two faults at once on coupled equipment: each is reported on its own with its cause
ranked first, and a restarted service reports neither again."""

from __future__ import annotations

from pathlib import Path

from .triage_testing import faulted_plant, open_service

#: The filter's clogging lowers the pump's flow, which alone would argue against bearing
#: wear on the pump: both must still be found.
BOTH = [("bearing_wear", "P-101", 9000.0), ("filter_clogging", "F-101", 6000.0)]


async def test_two_faults_on_coupled_equipment_get_a_report_each(site_home: Path) -> None:
    async with faulted_plant(BOTH) as plant:
        async with open_service(site_home, plant.endpoint) as first:
            made = await first.service.run_once()
        tops = {(r.candidates[0].cause, r.candidates[0].equipment): r for r in made.reports
                if r.status == "diagnosed"}
        assert ("bearing_wear", "P-101") in tops, [r.candidates[:2] for r in made.reports]
        assert ("filter_clogging", "F-101") in tops, [r.candidates[:2] for r in made.reports]
        pump = tops[("bearing_wear", "P-101")]
        # Each report says the other fault is reported separately.
        assert any("filter_clogging on F-101" in c for c in pump.next_checks)
        async with open_service(site_home, plant.endpoint) as second:
            again = await second.service.run_once()
            stored = second.runtime.reports.list()
    assert again.reports == []
    assert {r.id for r in stored} == {r.id for r in made.reports}
