"""An incident reported as "insufficient evidence" is triaged again as its evidence grows
(after a back-off, or when new alarms join it), audited, and reported again only when the
conclusion changes. A real demo plant server, the rule-based triage and the site's store;
the watcher's lookback stands for the history the incident has built up so far."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from agent.triage.watcher import WatchRules

from .triage_testing import faulted_plant, open_service

COOLING = [("cooling_loss", "HX-101", 500.0)]
#: Too little history for a cause (a few points), and an hour's back-off.
THIN = WatchRules(lookback=timedelta(seconds=25), settle=timedelta(0),
                  retriage_after=timedelta(hours=1), trends=False)


async def test_an_undiagnosed_incident_is_triaged_again_as_its_history_grows(
        site_home: Path) -> None:
    # Too little history yet (a few points): the alarm stands, the cause cannot be told.
    thin = THIN
    async with faulted_plant(COOLING) as plant, \
            open_service(site_home, plant.endpoint, rules=thin) as opened:
        service = opened.service
        assert service.playbook.lookback == thin.lookback
        first = await service.run_once()
        assert [r.status for r in first.reports] == ["insufficient_evidence"]
        # Within the back-off nothing is looked at again.
        waiting = await service.run_once()
        assert waiting.reports == [] and waiting.skipped >= 1
        # Back-off over, the history still thin: looked at again, the same conclusion is
        # not reported a second time.
        service.watcher.rules = replace(thin, retriage_after=timedelta(0))
        unchanged = await service.run_once()
        assert unchanged.reports == []
        # The history has grown: looked at again, now diagnosed and reported.
        service.watcher.rules = replace(thin, retriage_after=timedelta(0),
                                        lookback=timedelta(minutes=60))
        service.playbook.lookback = service.watcher.rules.lookback
        grown = await service.run_once()
        assert [(r.status, r.candidates[0].cause) for r in grown.reports] == [
            ("diagnosed", "cooling_loss")]
        # Diagnosed: never triaged again.
        after = await service.run_once()
        assert after.reports == [] and after.skipped >= 1
        stored = [r.status for r in opened.runtime.reports.list()]
        records = opened.runtime.audit.search()
    assert sorted(stored) == ["diagnosed", "insufficient_evidence"]
    looks = [(r.payload["outcome"], r.payload["reason"], r.payload["attempt"])
             for r in records if r.payload.get("step") == "retriage"]
    assert looks == [("unchanged", "back-off", 1), ("diagnosed", "back-off", 2)]


#: Longest the test waits for the developing fault to raise one more alarm (about 20 s
#: of plant time; a loaded 2-core box runs the plant slower).
JOIN_WAIT_S = 180.0


async def test_an_undiagnosed_incident_is_triaged_again_when_a_new_alarm_joins_it(
        site_home: Path) -> None:
    # The back-off is an hour: only the new alarm can bring the incident back.
    async with faulted_plant(COOLING) as plant, \
            open_service(site_home, plant.endpoint, rules=THIN) as opened:
        service = opened.service
        first = await service.run_once()
        assert [r.status for r in first.reports] == ["insufficient_evidence"]
        seen = {a.condition for a in first.reports[0].incident.alarms}
        # The cooling loss develops: another alarm of the exchanger joins the incident.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + JOIN_WAIT_S
        while True:
            incidents = await service.watcher.scan()
            joined = {a.condition for i in incidents for a in i.alarms} - seen
            if joined:
                break
            assert loop.time() < deadline, "no new alarm joined the incident"
            await asyncio.sleep(1.0)
        # Looked at again at once, with its history still thin: the same conclusion, not
        # reported a second time.
        again = await service.run_once()
        assert again.reports == []
        # The new alarm is known now and the back-off not over: not looked at again.
        after = await service.run_once()
        assert after.reports == [] and after.skipped >= 1
        records = opened.runtime.audit.search()
    looks = [(r.payload["outcome"], r.payload["reason"], r.payload["attempt"])
             for r in records if r.payload.get("step") == "retriage"]
    # One look for each pass that found a new alarm (usually one), numbered in turn.
    assert looks and all(look[:2] == ("unchanged", "new alarms") for look in looks)
    assert [look[2] for look in looks] == list(range(1, len(looks) + 1))
