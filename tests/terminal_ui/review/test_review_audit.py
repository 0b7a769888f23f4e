"""The audit pane against a real service and encrypted audit log: thousands of records
filtered and paged, a record opened, a signed review note added and verify still OK."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import DataTable, Input, Label, Markdown

from agent.audit.log import AuditLog
from agent.errors import PolicyDenied
from agent.service import AgentService
from terminal_ui.panes.audit import AuditPane
from terminal_ui.panes.markdown_screen import MarkdownScreen
from terminal_ui.panes.review_dialogs import ReviewNoteScreen

from .review_helpers import SHIFT_LEAD, Host, PaneApp, as_person, wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

RECORDS = 3000
PAGE = 200


def _fill(audit: AuditLog) -> None:
    """3,000 records: alarms on five pumps and tool calls by two people; every 97th
    mentions a work order."""
    for i in range(RECORDS):
        if i % 3 == 0:
            audit.append("alarm", "plantagent", {"condition": f"P-10{i % 5}.Flow.Low",
                                                 "n": i}, equipment=f"P-10{i % 5}")
        else:
            actor = "bob" if i % 2 else "carla"
            note = "see WO-4711" if i % 97 == 0 else "routine"
            audit.append("tool_call", actor, {"tool": "read_tags", "n": i, "note": note},
                         role="shift_lead", tool="read_tags")


def _seqs(pane: AuditPane) -> list[int]:
    return [r.seq for r in pane.page.records] if pane.page else []


def _filter(pane: AuditPane, **values: str) -> None:
    for name in ("kind", "actor", "text", "since", "until"):
        pane.query_one(f"#filter-{name}", Input).value = values.get(name, "")
    pane.apply_filters()


async def test_filters_and_paging_over_thousands_of_records(service: AgentService) -> None:
    audit = service.audit
    await asyncio.to_thread(_fill, audit)
    total = audit.size()
    assert total >= RECORDS
    app = PaneApp(lambda: AuditPane(service, page_size=PAGE))
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(AuditPane)
        await wait_for(pilot, lambda: bool(_seqs(pane)), "the first page")
        assert _seqs(pane) == list(range(total, total - PAGE, -1))  # newest first
        assert pane.page is not None and pane.page.has_older and not pane.page.has_newer
        assert pane.query_one(DataTable).row_count == PAGE

        await pilot.press("right_square_bracket")  # older
        await wait_for(pilot, lambda: _seqs(pane)[0] == total - PAGE, "the older page")
        assert _seqs(pane) == list(range(total - PAGE, total - 2 * PAGE, -1))
        await pilot.press("left_square_bracket")  # newer again
        await wait_for(pilot, lambda: _seqs(pane)[0] == total, "the newest page again")
        assert pane.page.has_older and not pane.page.has_newer

        # kind + actor: every record matches both, newest first, paged to the end.
        _filter(pane, kind="tool_call", actor="bob")
        await wait_for(pilot, lambda: pane.page is not None and pane.page.filters.actor
                       == "bob", "the filtered page")
        expected = [r.seq for r in audit.search(kind="tool_call", actor="bob",
                                                newest_first=True)]
        seen: list[int] = []
        while True:
            assert all(r.kind == "tool_call" and r.actor == "bob" for r in pane.page.records)
            seen += _seqs(pane)
            if not pane.page.has_older:
                break
            oldest = _seqs(pane)[-1]
            await pilot.press("right_square_bracket")
            await wait_for(pilot, lambda: _seqs(pane)[0] < oldest, "the next page")  # noqa: B023
        assert seen == expected and len(seen) > 2 * PAGE

        # Text in the payload, typed into the input and applied with Enter.
        _filter(pane)
        pane.query_one("#filter-text", Input).focus()
        await pilot.press(*"WO-4711", "enter")
        await wait_for(pilot, lambda: pane.page is not None and pane.page.filters.text
                       == "WO-4711", "the text filter")
        assert len(_seqs(pane)) == len(range(0, RECORDS, 97)) - len(
            [i for i in range(0, RECORDS, 97) if i % 3 == 0])
        assert "text=WO-4711" in str(pane.query_one("#page-line", Label).content)

        # A time window in the future matches nothing; a bad kind is refused, not applied.
        future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
        _filter(pane, since=future)
        await wait_for(pilot, lambda: pane.page is not None and pane.page.records == [],
                       "the empty window")
        assert "no matching records" in str(pane.query_one("#page-line", Label).content)
        _filter(pane, kind="alarmz")
        await pilot.pause()
        assert pane.filters.kind is None and pane.filters.since is not None  # unchanged


async def test_review_note_is_signed_and_verify_stays_ok(service: AgentService) -> None:
    audit = service.audit
    assert service.review is not None
    # In the shift lead's role the policy refuses the note (only its reviewer roles,
    # [audit] reviewer_roles, sign them), as the site service does; nothing is recorded.
    with pytest.raises(PolicyDenied, match="may not sign audit review notes") as refused:
        await service.review.add_review_note(1, 2, "reviewed", "looked")
    assert refused.value.fix and "--role auditor" in refused.value.fix
    before = audit.size()
    auditor = Host(as_person(service.review, SHIFT_LEAD, "auditor"))
    app = PaneApp(lambda: AuditPane(auditor, page_size=50))
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(AuditPane)
        verify = pane.query_one("#verify-line", Label)
        await wait_for(pilot, lambda: "verify OK" in str(verify.content), "verify OK")
        await wait_for(pilot, lambda: bool(_seqs(pane)), "the first page")

        await pilot.press("enter")  # the newest record in full
        assert isinstance(app.screen, MarkdownScreen)
        assert f"# Audit record {before}" in (app.screen.query_one(Markdown).source or "")
        await pilot.press("escape")

        await pilot.press("n")
        assert isinstance(app.screen, ReviewNoteScreen)
        assert app.screen.query_one("#range", Input).value == f"{before - 49}-{before}"
        await pilot.press(*"checked the alarm flood", "enter")
        await wait_for(pilot, lambda: audit.size() == before + 1, "the review note")
        await wait_for(pilot, lambda: _seqs(pane)[:1] == [before + 1], "the note on top")
        await wait_for(pilot, lambda: "verify OK" in str(verify.content)
                       and f"{before + 1} records" in str(verify.content), "verify again")
    note = audit.last(1)[0]
    assert note.kind == "review_note" and note.actor == SHIFT_LEAD and note.role == "auditor"
    assert note.payload["first"] == before - 49 and note.payload["last"] == before
    assert note.payload["note"] == "checked the alarm flood"
    assert note.payload["verdict"] == "reviewed"
    signed = note.payload["signed"]
    assert isinstance(signed, dict) and isinstance(signed["statement"], dict)
    assert signed["statement"]["note"] == "checked the alarm flood"  # the reviewer's own key
    assert audit.verify().ok
