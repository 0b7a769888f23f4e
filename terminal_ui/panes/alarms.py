"""The alarms pane: the plant's active alarms and the triage reports as they arrive.

A worker polls both every few seconds; a report that was not there before is announced.
Enter on a report opens it in full (Markdown, scrollable).
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable, Label

from agent.errors import PlantAgentError
from agent.triage.models import TriageReport
from terminal_ui.panes.markdown_screen import MarkdownScreen
from terminal_ui.panes.review_backend import ReviewHost, review_of
from terminal_ui.panes.review_columns import add_columns
from tools.opcua.models import AlarmInfo

ALARM_COLUMNS = (("Sev", 4), ("Source", 28), ("Since", 8), ("Message", 72))
REPORT_COLUMNS = (("Created", 11), ("Report", 18), ("Equipment", 10), ("Status", 13),
                  ("Top cause", 40))


def alarm_row(alarm: AlarmInfo) -> tuple[str, str, str, str]:
    """Severity, source, since (UTC) and message of one alarm."""
    since = f"{alarm.time:%H:%M:%S}" if alarm.time else "?"
    return str(alarm.severity), alarm.source, since, alarm.message


def report_row(report: TriageReport) -> tuple[str, str, str, str, str]:
    """Created, id, equipment, status and top cause of one report."""
    top = report.candidates[0] if report.candidates else None
    cause = f"{top.cause} ({top.confidence:.0%})" if top else "-"
    status = "diagnosed" if report.status == "diagnosed" else "thin evidence"
    return (f"{report.created:%m-%d %H:%M}", report.id, ",".join(report.incident.equipment),
            status, cause)


class AlarmsPane(Widget):
    """Active alarms over the triage reports; Enter reads the highlighted report."""

    DEFAULT_CSS = """
    AlarmsPane { layout: vertical; height: 1fr; }
    AlarmsPane .heading { text-style: bold; width: 100%; background: $panel; padding: 0 1; }
    AlarmsPane #alarms { height: 1fr; min-height: 3; }
    AlarmsPane #reports { height: 1fr; min-height: 3; }
    AlarmsPane #alarms-status { width: 100%; color: $text-muted; padding: 0 1; }
    """
    BINDINGS = [
        Binding("o", "open_report", "Open report"),
        Binding("r", "refresh_now", "Refresh"),
        Binding("tab", "switch_table", "Alarms/Reports", show=False),
    ]

    def __init__(self, service: ReviewHost, *, poll_s: float = 5.0, report_limit: int = 50,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.service = service
        self.poll_s = poll_s
        self.report_limit = report_limit
        self.report_ids: list[str] = []
        self.alarms: list[AlarmInfo] = []
        self.loaded = False  # one poll done: later new reports are announced

    def compose(self) -> ComposeResult:
        """Two headed tables and a status line."""
        yield Label("Active alarms", classes="heading")
        yield DataTable(id="alarms", cursor_type="row", zebra_stripes=True)
        yield Label("Triage reports (Enter or o opens)", classes="heading")
        yield DataTable(id="reports", cursor_type="row", zebra_stripes=True)
        yield Label("loading…", id="alarms-status")

    def on_mount(self) -> None:
        """Columns, the first poll and the timer of the next ones."""
        add_columns(self.query_one("#alarms", DataTable), ALARM_COLUMNS)
        add_columns(self.query_one("#reports", DataTable), REPORT_COLUMNS)
        self.poll()
        self.set_interval(self.poll_s, self.poll)

    def action_refresh_now(self) -> None:
        """Poll now."""
        self.poll()

    def action_switch_table(self) -> None:
        """Move the focus between the alarms and the reports."""
        alarms, reports = self.query_one("#alarms", DataTable), self.query_one("#reports",
                                                                               DataTable)
        (reports if alarms.has_focus else alarms).focus()

    @work(exclusive=True, group="alarms-poll")
    async def poll(self) -> None:
        """Fetch the active alarms and the reports; a failure shows in the status line."""
        review = review_of(self.service)
        problems: list[str] = []
        try:
            self.show_alarms(await review.active_alarms())
        except PlantAgentError as exc:
            problems.append(f"alarms unavailable: {exc.message}")
        try:
            self.show_reports(await review.triage_reports(self.report_limit))
        except PlantAgentError as exc:
            problems.append(f"reports unavailable: {exc.message}")
        status = "; ".join(problems) or (
            f"{len(self.alarms)} active alarm(s), {len(self.report_ids)} report(s); "
            f"refreshed every {self.poll_s:g} s")
        self.query_one("#alarms-status", Label).update(status)

    def show_alarms(self, alarms: list[AlarmInfo]) -> None:
        """Replace the alarm rows."""
        self.alarms = alarms
        table = self.query_one("#alarms", DataTable)
        table.clear()
        for alarm in alarms:
            table.add_row(*alarm_row(alarm))
        if not alarms:
            table.add_row("", "no active alarms", "", "")

    def show_reports(self, reports: list[TriageReport]) -> None:
        """Replace the report rows, keeping the cursor on the same report; announce new
        ones after the first load."""
        table = self.query_one("#reports", DataTable)
        current = self.highlighted_report()
        fresh = [r for r in reports if r.id not in self.report_ids]
        if self.loaded and fresh:
            names = ", ".join(f"{r.id} on {','.join(r.incident.equipment)}" for r in fresh)
            self.notify(names, title="New triage report")
        self.loaded = True
        if [r.id for r in reports] == self.report_ids:
            return  # unchanged: leave the table (and the reader's cursor) alone
        self.report_ids = [r.id for r in reports]
        table.clear()
        for report in reports:
            table.add_row(*report_row(report), key=report.id)
        if current in self.report_ids:
            table.move_cursor(row=self.report_ids.index(current))

    def highlighted_report(self) -> str | None:
        """Id of the report under the cursor, if any."""
        table = self.query_one("#reports", DataTable)
        row = table.cursor_row
        return self.report_ids[row] if 0 <= row < len(self.report_ids) else None

    def action_open_report(self) -> None:
        """Open the highlighted report in full."""
        report_id = self.highlighted_report()
        if report_id is None:
            self.notify("no triage report to open", severity="warning")
            return
        self.open_report(report_id)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter (or a click) on a report row opens it."""
        if event.data_table.id == "reports" and event.row_key.value is not None:
            event.stop()
            self.open_report(str(event.row_key.value))

    @work(exclusive=True, group="alarms-open")
    async def open_report(self, report_id: str) -> None:
        """Load one report and show it on its own screen."""
        try:
            report, text = await review_of(self.service).triage_report(report_id)
        except PlantAgentError as exc:
            self.notify(str(exc), title="Cannot open the report", severity="error")
            return
        title = f"{report.id} · {','.join(report.incident.equipment)} · {report.status}"
        await self.app.push_screen(MarkdownScreen(title, text))
