"""Alarm floods and flapping alarms on a live demo plant (faults injected while it runs)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agent.triage.watcher import WatchRules

from .triage_testing import faulted_plant, open_service, wait_until

QUIET = WatchRules(trends=False)


async def test_triage_flood_is_one_incident_with_first_out(site_home: Path) -> None:
    async with faulted_plant([], speed=100.0, history_hours=0.05) as plant:
        plant.model.inject("conveyor_jam", "CV-101")
        await wait_until(lambda: any(a.startswith(("CV-101", "M-101"))
                                     for a in plant.active_alarms()), "the conveyor alarms")
        first = {a for a in plant.active_alarms()}
        plant.model.inject("feed_valve_stuck", "T-101")
        plant.model.inject("cooling_loss", "HX-101")
        await wait_until(lambda: len(plant.active_alarms()) > 12, "an alarm flood")
        async with open_service(site_home, plant.endpoint, rules=QUIET) as opened:
            incidents = await opened.service.watcher.scan()
    floods = [i for i in incidents if i.kind == "flood"]
    assert len(floods) == 1
    flood = floods[0]
    assert len(flood.alarms) > 10
    assert flood.first_out is not None
    assert flood.first_out.condition in first
    assert flood.first_out.time == min(a.time for a in flood.alarms)


async def test_triage_flapping_alarm_is_one_incident(site_home: Path) -> None:
    cond = "M-101.Current.High"
    async with faulted_plant([], speed=20.0, history_hours=0.05) as plant, open_service(
        site_home, plant.endpoint, rules=QUIET, with_events=True
    ) as opened:
        for _ in range(3):
            plant.model.inject("conveyor_jam", "CV-101")
            await wait_until(lambda: cond in plant.active_alarms(), "the alarm to raise")
            plant.model.clear("CV-101")
            await wait_until(lambda: cond not in plant.active_alarms(), "the alarm to clear")
        plant.model.inject("conveyor_jam", "CV-101")
        await wait_until(lambda: cond in plant.active_alarms(), "the alarm to raise again")
        events = opened.service.watcher.events
        assert events is not None
        since = datetime.min.replace(tzinfo=UTC)
        await wait_until(lambda: sum(1 for e in events.recent(since, 1000)
                                     if cond in (e.condition_id or "") and e.active) >= 4,
                         "the events to arrive")
        reports = []

        async def one_pass() -> bool:
            # A fresh incident with too little history yet is deferred to the next pass.
            reports.extend((await opened.service.run_once()).reports)
            return bool(reports)

        await wait_until(one_pass, "a report")
    flapping = [r for r in reports if cond in r.incident.flapping]
    assert len(flapping) == 1
    assert len(reports) == 1  # conveyor and motor alarms: one jam, one report
    assert flapping[0].candidates[0].cause == "conveyor_jam"
    assert "flapping" in flapping[0].text
