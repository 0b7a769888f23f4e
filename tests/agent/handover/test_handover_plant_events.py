"""The plant side of a handover over time: alarms that cleared during the shift (seen by a
running event log, as the terminal UI keeps one), and a server that went away (the
handover still comes, saying what could not be checked)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.handover import HandoverReport, build_handover
from agent.llm.scripted import ScriptedModel
from agent.runtime import SiteRuntime
from tests.support.sites import new_site
from tools.opcua.alarms import event_log

from .handover_helpers import demo_plant, site_settings

pytestmark = pytest.mark.timeout(120)

#: Longest wait for the plant to get somewhere (a loaded 2-core box is slow).
WAIT_S = 40.0


def of(report: HandoverReport, source: str) -> list[dict[str, Any]]:
    return [e.payload for e in report.evidence.values() if e.source == source]


async def test_cleared_alarms_are_handed_over_and_a_lost_server_is_a_gap(
    tmp_path: Path,
) -> None:
    home = new_site(tmp_path / "site")
    async with demo_plant([("conveyor_jam", "CV-101", 120.0)]) as plant:
        settings = site_settings(home, plant.endpoint)
        async with SiteRuntime(settings, endpoint=plant.endpoint,
                               model=ScriptedModel()) as runtime:
            # The handover reads the plant and the audit log here, no triage reports.
            sources = replace(await runtime.shift_sources(), reports=None)
            await event_log(sources.connection, sources.catalog)
            assert any(a.startswith("CV-101.") for a in plant.active_alarms())
            plant.model.clear("CV-101")  # the jam is freed: its alarms return to normal
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WAIT_S
            while "CV-101.BeltSpeed.Low" in plant.active_alarms():
                assert loop.time() < deadline, plant.active_alarms()
                await asyncio.sleep(0.25)
            await plant.wait_ticks(4)  # the events reach the client's log

            report = await build_handover(sources, since=timedelta(hours=1),
                                          use_model=False)
            events = {str(p["condition"]): p for p in of(report, "alarm_event")}
            assert events["CV-101.BeltSpeed.Low"]["cleared"] == 1, events
            assert report.evidence["H1"].payload["alarm_events"] == len(events)
            still = [c for p in of(report, "active_alarm") for c in p["conditions"]]
            assert "CV-101.BeltSpeed.Low" not in still
            assert report.grounded, report.unsupported

            await plant.stop()  # the server goes away in the middle of the shift
            lost = await build_handover(sources, since=timedelta(hours=1),
                                        use_model=False)
    gaps = [e for e in lost.evidence.values() if e.source == "gap"]
    assert {p["what"] for p in of(lost, "gap")} >= {"active alarms"}, lost.markdown()
    assert any(line.section == "gaps" and line.citations == [g.id]
               for g in gaps for line in lost.lines)
    assert "## Could not check" in lost.markdown()
    # What the site itself holds is still handed over, and the overview does not claim
    # that nothing is open when it could not look.
    assert lost.grounded, lost.markdown()
    assert "what is open could not all be checked" in lost.evidence["H1"].summary

