"""The audit pane: the trail with filters, paged by sequence number so thousands of
records stay fast, the verify status, and signed review notes.

Times show in the site's zone (the date where it is not today). Filters: kind, actor,
text in the payload, since and until (ISO, UTC without an offset, or an age like 8h);
Enter in any filter applies them all. ``]`` and ``[`` page to older and newer records.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label

from agent.audit.records import AuditRecord
from agent.errors import PlantAgentError
from agent.service.review_models import AUDIT_PAGE_SIZE, AuditFilter, AuditPage, audit_filter
from agent.site_time import SiteTime
from terminal_ui.panes.markdown_screen import MarkdownScreen
from terminal_ui.panes.review_backend import AuditHost, audit_of, audit_time_of
from terminal_ui.panes.review_columns import add_columns
from terminal_ui.panes.review_dialogs import ReviewNoteInput, ReviewNoteScreen
from terminal_ui.payload_view import summary as payload_summary
from terminal_ui.payload_view import table as payload_table

FILTERS = ("kind", "actor", "text", "since", "until")
SUMMARY_CHARS = 160
RECORD_COLUMNS = (("Seq", 6), ("Time", 19), ("Kind", 15), ("Actor", 10),
                  ("Summary", SUMMARY_CHARS))


def _utcnow() -> datetime:
    return datetime.now(UTC)


def record_row(record: AuditRecord, site: SiteTime) -> tuple[str, str, str, str, str]:
    """Seq, time (the site's), kind, actor and a one-line summary of one record."""
    body = payload_summary(record.payload)
    summary = f"[{record.equipment}] {body}" if record.equipment else body
    if len(summary) > SUMMARY_CHARS:
        summary = summary[: SUMMARY_CHARS - 1] + "…"
    return (str(record.seq), site.show(record.ts), record.kind, record.actor,
            summary)


def record_markdown(record: AuditRecord, site: SiteTime) -> str:
    """One record in full, for its own screen (its time in the site's zone and in UTC,
    as it is stored and signed)."""
    payload = payload_table(record.payload)
    return (f"# Audit record {record.seq}\n\n- **time** {site.stamp(record.ts)} "
            f"({record.ts:%Y-%m-%d %H:%M:%S.%f} UTC)\n"
            f"- **kind** {record.kind}\n- **actor** {record.actor} ({record.role or '-'})\n"
            f"- **tool** {record.tool or '-'}; **equipment** {record.equipment or '-'}\n"
            f"- **hash** `{record.hash}`\n- **previous** `{record.prev_hash}`\n\n"
            f"{payload}\n")


class AuditPane(Widget):
    """The records of one page, the filter inputs, the page line and the verify line."""

    DEFAULT_CSS = """
    AuditPane { layout: vertical; height: 1fr; }
    AuditPane #filters { height: 1; }
    AuditPane #filters Input { width: 1fr; margin-right: 1; }
    AuditPane #records { height: 1fr; }
    AuditPane .audit-line { width: 100%; padding: 0 1; color: $text-muted; }
    AuditPane #verify-line.ok { color: $success; }
    AuditPane #verify-line.failed { color: $error; text-style: bold; }
    """
    BINDINGS = [
        Binding("slash", "focus_filters", "Filter"),
        Binding("right_square_bracket", "older", "Older"),
        Binding("left_square_bracket", "newer", "Newer"),
        Binding("n", "review_note", "Review note"),
        Binding("v", "verify", "Verify"),
        Binding("o", "open_record", "Open", show=False),
        Binding("c", "clear_filters", "Clear filters", show=False),
        Binding("escape", "focus_records", "Records", show=False),
    ]

    def __init__(self, service: AuditHost, *, page_size: int = AUDIT_PAGE_SIZE,
                 clock: Callable[[], datetime] = _utcnow, id: str | None = None) -> None:
        super().__init__(id=id)
        self.service = service
        self.page_size = page_size
        self.clock = clock
        self.filters = AuditFilter()
        self.page: AuditPage | None = None

    def compose(self) -> ComposeResult:
        """Records, the filters under them (the records come first for the keyboard),
        the page line, the verify line."""
        yield DataTable(id="records", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="filters"):
            for name in FILTERS:
                yield Input(placeholder=name, id=f"filter-{name}", compact=True)
        yield Label("loading…", id="page-line", classes="audit-line")
        yield Label("verifying…", id="verify-line", classes="audit-line")

    def on_mount(self) -> None:
        """Columns, the newest page, a verification."""
        add_columns(self.query_one(DataTable), RECORD_COLUMNS)
        self.load_page()
        self.run_verify()

    # -- filters and pages ----------------------------------------------------------------

    def action_focus_filters(self) -> None:
        """Into the first filter input."""
        self.query_one("#filter-kind", Input).focus()

    def action_focus_records(self) -> None:
        """Back to the records."""
        self.query_one(DataTable).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in a filter: apply all of them, from the newest record."""
        if event.input.id and event.input.id.startswith("filter-"):
            event.stop()
            self.apply_filters()

    def apply_filters(self) -> None:
        """Read the inputs into filters (a bad kind or time is shown) and reload."""
        values = {name: self.query_one(f"#filter-{name}", Input).value for name in FILTERS}
        try:
            self.filters = audit_filter(**values, now=self.clock())
        except PlantAgentError as exc:
            self.notify(str(exc), title="Filter not applied", severity="error")
            return
        self.load_page()
        self.query_one(DataTable).focus()

    def action_clear_filters(self) -> None:
        """Empty every filter and show the newest records."""
        for name in FILTERS:
            self.query_one(f"#filter-{name}", Input).value = ""
        self.apply_filters()

    def action_older(self) -> None:
        """The page of older records."""
        if self.page is not None and self.page.has_older:
            self.load_page(older_than=self.page.oldest_seq)

    def action_newer(self) -> None:
        """The page of newer records."""
        if self.page is not None and self.page.has_newer:
            self.load_page(newer_than=self.page.newest_seq)

    @work(exclusive=True, group="audit-page")
    async def load_page(self, older_than: int | None = None,
                        newer_than: int | None = None) -> None:
        """Fetch one page with the current filters and show it."""
        try:
            page = await audit_of(self.service).audit_page(
                self.filters, older_than=older_than, newer_than=newer_than,
                size=self.page_size)
        except PlantAgentError as exc:
            # The toast fades; the page line keeps saying why the table is empty.
            self.notify(str(exc), title="Cannot read the audit log", severity="error")
            self.query_one("#page-line", Label).update(
                f"cannot read the audit log: {exc.message}")
            return
        self.show_page(page)

    def show_page(self, page: AuditPage) -> None:
        """Replace the rows and the page line."""
        self.page = page
        table = self.query_one(DataTable)
        site = audit_time_of(self.service)
        table.clear()
        for record in page.records:
            table.add_row(*record_row(record, site), key=str(record.seq))
        if page.records:
            span = f"records #{page.newest_seq}…#{page.oldest_seq} ({len(page.records)})"
        else:
            span = "no matching records"
        moves = " ".join(m for m, ok in (("] older", page.has_older),
                                         ("[ newer", page.has_newer)) if ok)
        line = f"{span} · {page.filters.describe()}" + (f" · {moves}" if moves else "")
        self.query_one("#page-line", Label).update(line)

    # -- records, notes, verification -------------------------------------------------

    def highlighted(self) -> AuditRecord | None:
        """The record under the cursor, if any."""
        row = self.query_one(DataTable).cursor_row
        records = self.page.records if self.page else []
        return records[row] if 0 <= row < len(records) else None

    def action_open_record(self) -> None:
        """Show the highlighted record in full."""
        record = self.highlighted()
        if record is not None:
            self.app.push_screen(MarkdownScreen(f"Audit record {record.seq}",
                                                record_markdown(record, audit_time_of(
                                                    self.service))))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a record opens it."""
        event.stop()
        self.action_open_record()

    def action_review_note(self) -> None:
        """Ask for a note on the records on screen (or the range typed), then sign it."""
        page = self.page
        default = f"{page.oldest_seq}-{page.newest_seq}" if page and page.records else ""
        self.app.push_screen(ReviewNoteScreen(default), self._note_entered)

    def _note_entered(self, entered: ReviewNoteInput | None) -> None:
        if entered is not None:
            self.add_note(entered)

    @work(exclusive=True, group="audit-note")
    async def add_note(self, entered: ReviewNoteInput) -> None:
        """Append the signed note, then show it and verify again."""
        try:
            record = await audit_of(self.service).add_review_note(
                entered.first, entered.last, entered.verdict, entered.note)
        except PlantAgentError as exc:
            self.notify(str(exc), title="Review note not added", severity="error")
            return
        self.notify(f"signed note #{record.seq} on records {entered.first}-{entered.last}",
                    title="Review note added")
        self.load_page()
        self.run_verify()

    def action_verify(self) -> None:
        """Verify the whole log again."""
        self.run_verify()

    @work(exclusive=True, group="audit-verify")
    async def run_verify(self) -> None:
        """Check the chain, tree and signatures (in a thread) and show the verdict."""
        line = self.query_one("#verify-line", Label)
        line.update("verifying…")
        line.remove_class("ok", "failed")
        try:
            status = await audit_of(self.service).verify()
        except PlantAgentError as exc:
            line.update(f"verify could not run: {exc.message}")
            line.add_class("failed")
            return
        line.update(status.line())
        line.add_class("ok" if status.ok else "failed")
