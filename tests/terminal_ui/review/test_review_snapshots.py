"""Snapshots of the review panes at 80x24 and 160x48, over a quiet real plant (no alarms)
and a site holding fixed records (review_snapshot_data.py).

Update after a deliberate change with:
    pytest tests/terminal_ui/review/test_review_snapshots.py --snapshot-update
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from pytest_textual_snapshot import SVGImageExtension
from syrupy.assertion import SnapshotAssertion
from textual.app import App
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Label, Markdown

from agent.llm.scripted import ScriptedModel
from agent.runtime import SiteRuntime
from agent.service import open_service
from agent.service.review import ReviewService
from agent.site_time import SiteTime
from terminal_ui.panes.alarms import AlarmsPane
from terminal_ui.panes.approvals import ApprovalsPane
from terminal_ui.panes.audit import AuditPane
from terminal_ui.panes.handover import HandoverPane
from terminal_ui.panes.markdown_screen import MarkdownScreen
from tests.support.sites import new_site

from .review_helpers import Host, PaneApp, demo_plant, settings_for, wait_for
from .review_snapshot_data import FIXED, FixedBoard, frozen_sources, handover_report

pytestmark = pytest.mark.asyncio(loop_scope="module")

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def frozen(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Host]:
    """The review backend over a quiet demo plant and the fixed site."""
    root = tmp_path_factory.mktemp("review-snapshots")
    new_site(root / "live")
    async with demo_plant([]) as plant:
        settings = settings_for(root / "live", plant.endpoint)
        async with SiteRuntime(settings, endpoint=plant.endpoint,
                               model=ScriptedModel()) as runtime, \
                open_service(runtime, triage=False) as service:
            live = service.sources
            with frozen_sources(live, root / "fixed", live.catalog) as fixed:
                # Times show in Berlin (UTC+1 on the fixed day), "today" being that day.
                yield Host(ReviewService(fixed, runtime.twin, shown_time=SiteTime(
                    zone=ZoneInfo("Europe/Berlin"), clock=lambda: FIXED)))


async def _screenshot(app: App[None], pilot: Pilot[None]) -> str:
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()
    return app.export_screenshot(title="plantagent", simplify=True)


def _svg(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(SVGImageExtension)


@pytest.mark.parametrize("size", SIZES)
async def test_alarms_pane(frozen: Host, snapshot: SnapshotAssertion,
                           size: tuple[int, int]) -> None:
    review = frozen.review
    assert review is not None
    board = Host(FixedBoard(review.sources, review.twin, review.clock,
                            shown_time=review.shown_time))
    app = PaneApp(lambda: AlarmsPane(board, poll_s=3600.0))
    async with app.run_test(size=size) as pilot:
        pane = app.query_one(AlarmsPane)
        status = pane.query_one("#alarms-status", Label)
        await wait_for(pilot, lambda: "refreshed" in str(status.content), "the first poll")
        assert _svg(snapshot) == await _screenshot(app, pilot)


async def test_report_screen(frozen: Host, snapshot: SnapshotAssertion) -> None:
    app = PaneApp(lambda: AlarmsPane(frozen, poll_s=3600.0))
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(AlarmsPane)
        await wait_for(pilot, lambda: bool(pane.report_ids), "the reports")
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, MarkdownScreen), "the report")
        assert _svg(snapshot) == await _screenshot(app, pilot)


@pytest.mark.parametrize("size", SIZES)
async def test_approvals_pane(frozen: Host, snapshot: SnapshotAssertion,
                              size: tuple[int, int]) -> None:
    app = PaneApp(lambda: ApprovalsPane(frozen, poll_s=3600.0))
    async with app.run_test(size=size) as pilot:
        pane = app.query_one(ApprovalsPane)
        detail = pane.query_one("#detail-text", Markdown)
        await wait_for(pilot, lambda: "## What-if" in (detail.source or ""), "the detail")
        assert _svg(snapshot) == await _screenshot(app, pilot)


@pytest.mark.parametrize("size", SIZES)
async def test_audit_pane(frozen: Host, snapshot: SnapshotAssertion,
                          size: tuple[int, int]) -> None:
    app = PaneApp(lambda: AuditPane(frozen, page_size=25, clock=lambda: FIXED))
    async with app.run_test(size=size) as pilot:
        pane = app.query_one(AuditPane)
        verify = pane.query_one("#verify-line", Label)
        await wait_for(pilot, lambda: pane.page is not None and "verify OK" in str(
            verify.content), "the page and the verify status")
        assert _svg(snapshot) == await _screenshot(app, pilot)


@pytest.mark.parametrize("size", SIZES)
async def test_handover_pane(frozen: Host, snapshot: SnapshotAssertion,
                             size: tuple[int, int]) -> None:
    app = PaneApp(lambda: HandoverPane(frozen))
    async with app.run_test(size=size) as pilot:
        await app.query_one(HandoverPane).show_report(handover_report())
        assert _svg(snapshot) == await _screenshot(app, pilot)



PANES = [
    pytest.param(lambda host: AlarmsPane(host, poll_s=3600.0), id="alarms"),
    pytest.param(lambda host: ApprovalsPane(host, poll_s=3600.0), id="approvals"),
    pytest.param(lambda host: AuditPane(host, page_size=25), id="audit"),
    pytest.param(lambda host: HandoverPane(host), id="handover"),
]


@pytest.mark.parametrize("make", PANES)
async def test_panes_survive_a_tiny_terminal(
    frozen: Host, make: Callable[[Host], Widget]
) -> None:
    app = PaneApp(lambda: make(frozen))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.5)  # let the first load land
        await pilot.resize_terminal(24, 6)
        await pilot.pause(0.5)
        await pilot.press("down", "up")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.is_running
        pane = app.screen.children[0]
        assert pane.region.height > 0 and pane.region.width == 80
