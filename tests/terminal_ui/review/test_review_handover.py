"""The handover pane against a real service: the window picked by key, the handover of
the faulted shift generated in a worker, every line shown with its citations."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from textual.widgets import Label, Markdown

from agent.service import AgentService
from terminal_ui.panes.handover import HandoverPane

from .review_helpers import PaneApp, wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_handover_of_the_shift_with_citations(service: AgentService) -> None:
    app = PaneApp(lambda: HandoverPane(service, use_model=True))
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(HandoverPane)
        settings = pane.query_one("#handover-settings", Label)
        assert pane.window_h is None and "this shift" in str(settings.content)
        await pilot.press("w", "w", "w")  # shift -> 4 h -> 8 h -> 12 h
        assert pane.window_h == 12 and "last 12 h" in str(settings.content)
        await pilot.press("m")  # the template: no model in this test
        assert not pane.use_model and "template" in str(settings.content)

        await pilot.press("g")
        await wait_for(pilot, lambda: pane.report is not None, "the handover")
        report = pane.report
        assert report is not None
        assert report.until - report.since == timedelta(hours=12)
        assert report.lines and all(line.citations for line in report.lines)
        assert report.model == "template"
        # The template writes only what its facts hold (no 1.98e+03-style numbers).
        assert report.grounded, report.unsupported
        text = pane.query_one("#handover-text", Markdown).source or ""
        # The cooler's active alarms are an open item, cited with their evidence ids.
        open_items = text.split("## Open items", 1)[1].split("##", 1)[0]
        assert "HX-101" in open_items
        cited = set(re.findall(r"\[(H\d+)\]", text))
        assert cited and cited <= set(report.evidence)
        assert "## Evidence" in text
        outcome = str(pane.query_one("#handover-outcome", Label).content)
        assert f"{len(report.lines)} lines" in outcome
        assert "grounded" in outcome
        assert not pane.has_class("-running")
