"""The real default model writes a handover: its lines cite the shift's evidence, and
what the grounding check cannot find in the cited evidence is marked, never passed off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from agent.handover import build_handover
from agent.handover.check import PlantNames, check_lines
from agent.handover.plant_facts import catalog_units
from agent.handover.sources import ShiftSources
from agent.runtime import SiteRuntime
from plant.server import DemoPlantServer

from .handover_helpers import Work, do_work, site_settings

pytestmark = [pytest.mark.model, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def real(
    plant: DemoPlantServer, shift_home: Path, default_model_path: Path
) -> AsyncIterator[tuple[ShiftSources, Work]]:
    """What a handover reads, with the real default model (one thread: the box is
    shared), after a shift of triage and approvals."""
    settings = site_settings(shift_home, plant.endpoint, model={
        "directory": str(default_model_path.parent), "threads": 1})
    async with SiteRuntime(settings, endpoint=plant.endpoint,
                           plant_name="the demo plant") as runtime:
        work = await do_work(runtime)
        yield await runtime.shift_sources(), work


async def test_the_model_writes_a_cited_handover_and_nothing_unsupported_passes(
    real: tuple[ShiftSources, Work],
) -> None:
    shift, work = real
    assert shift.reports is work.reports
    heard: list[str] = []
    report = await build_handover(shift, since=timedelta(hours=8),
                                  on_progress=heard.append)

    assert report.model == f"model:{shift.model.info.name}", report.notes
    assert any("the model is writing" in h for h in heard)
    for line in report.lines:
        assert line.citations and set(line.citations) <= set(report.evidence), line
    # The model's facts really are the shift's: an approval, a triage report, an alarm.
    sources = {e.source for e in report.evidence.values()}
    assert {"approval", "triage_report", "active_alarm", "pending_approval"} <= sources
    # Grounded, line by line: every unsupported claim is marked where it stands, and
    # every other line passes the grounding check again on its own.
    catalog = shift.catalog
    names = PlantNames(catalog.tag_names(), catalog.equipment_names(), catalog_units(catalog))
    flagged = {u.line for u in report.unsupported}
    for u in report.unsupported:
        assert "[unverified:" in report.lines[u.line].text, u
    for index, line in enumerate(report.lines):
        if index not in flagged:
            assert check_lines([line], report.evidence, names).grounded, line
    assert report.grounded == (not report.unsupported)
    # The model wrote lines of its own (the template adds only what they left out).
    assert [line for line in report.lines if line.writer == "model"]
    record = shift.audit.search(kind="handover")[-1]
    assert record.payload["writer"] == report.model
    assert record.payload["model_sha256"] == shift.model.info.sha256
    assert record.payload["model_steps"] or record.payload["model_cut_off_outputs"]
