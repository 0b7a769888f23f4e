"""The alarms pane: the alarms the plant holds, acted on, over the triage reports.

A worker polls the alarm board and the reports every few seconds; a report that was not
there before is announced. The alarm table shows the site's priority (its colour), the
state (unacknowledged, acknowledged, shelved with the time left), since when, and sorts
(`s`) and filters (`f`). The actions are offered only when the person's role may take
them: `a` acknowledge, `C` confirm, `c` comment, `h` ask to shelve, `u` ask to unshelve;
each goes through the service (the policy gate, the audit log) and what the server reads
back afterwards is what the pane says. Enter on a report opens it in full.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Label

from agent.errors import PlantAgentError
from agent.service.views import AlarmView
from agent.site_time import SiteTime
from agent.triage.models import TriageReport
from terminal_ui.panes.alarm_acting import AlarmActing
from terminal_ui.panes.alarm_rows import (
    ALARM_COLUMNS,
    FILTERS,
    SORTS,
    alarm_cells,
    arrange,
    counts_line,
)
from terminal_ui.panes.markdown_screen import MarkdownScreen
from terminal_ui.panes.review_backend import AlarmsHost, alarms_of, alarms_time_of
from terminal_ui.panes.review_columns import add_columns
from terminal_ui.trend import TrendScreen, TrendSource

REPORT_COLUMNS = (("Created", 11), ("Report", 18), ("Equipment", 10), ("Status", 13),
                  ("Top cause", 40))
#: Bindings that act on an alarm (each the name of the action the policy must allow).
_NEEDS = frozenset({"acknowledge", "confirm", "comment", "shelve", "unshelve"})


def report_row(report: TriageReport, site: SiteTime) -> tuple[str, str, str, str, str]:
    """Created (site time), id, equipment, status and top cause of one report."""
    top = report.candidates[0] if report.candidates else None
    cause = f"{top.cause} ({top.confidence:.0%})" if top else "-"
    status = "diagnosed" if report.status == "diagnosed" else "thin evidence"
    return (site.show(report.created, seconds=False), report.id,
            ",".join(report.incident.equipment), status, cause)


class AlarmsPane(AlarmActing):
    """The alarm board and its actions over the triage reports."""

    class Counted(Message):
        """The board was read: how many alarms, how many unacknowledged (for the tab's
        title and the status bar)."""

        def __init__(self, total: int, unacknowledged: int) -> None:
            super().__init__()
            self.total = total
            self.unacknowledged = unacknowledged

    DEFAULT_CSS = """
    AlarmsPane { layout: vertical; height: 1fr; }
    AlarmsPane .heading { text-style: bold; width: 100%; background: $panel; padding: 0 1; }
    AlarmsPane #alarm-counts { width: 100%; color: $text-muted; padding: 0 1; }
    AlarmsPane #alarms { height: 2fr; min-height: 3; }
    AlarmsPane #reports { height: 1fr; min-height: 3; }
    AlarmsPane #alarms-status { width: 100%; color: $text-muted; padding: 0 1; }
    """
    BINDINGS = [
        Binding("a", "acknowledge", "Ack"),
        Binding("C", "confirm", "Confirm"),
        Binding("c", "comment", "Comment"),
        Binding("h", "shelve", "Shelve"),
        Binding("u", "unshelve", "Unshelve"),
        Binding("s", "sort", "Sort"),
        Binding("f", "filter", "Filter"),
        Binding("o", "open_report", "Open report"),
        Binding("t", "trend", "Trend"),
        Binding("r", "refresh_now", "Refresh"),
        Binding("tab", "switch_table", "Alarms/Reports", show=False),
    ]

    def __init__(self, service: AlarmsHost, *, poll_s: float = 5.0, report_limit: int = 50,
                 trend: TrendSource | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.service = service
        #: Where ``t`` reads the highlighted alarm's tag history (None: not offered).
        self.trend = trend
        self.poll_s = poll_s
        self.report_limit = report_limit
        self.report_ids: list[str] = []
        self.alarms: list[AlarmView] = []  # everything the board holds
        self.shown: list[AlarmView] = []  # the rows, sorted and filtered
        self.sort = SORTS[0]
        self.filter_by = FILTERS[0]
        self.allowed: set[str] = set()  # the actions the role may take (the policy's)
        self.loaded = False  # one poll done: later new reports are announced

    def compose(self) -> ComposeResult:
        """Alarms with their counts, the reports, and a status line."""
        yield Label("Alarms", classes="heading", id="alarms-heading")
        yield Label("", id="alarm-counts")
        yield DataTable(id="alarms", cursor_type="row", zebra_stripes=True)
        yield Label("Triage reports (Enter or o opens)", classes="heading")
        yield DataTable(id="reports", cursor_type="row", zebra_stripes=True)
        yield Label("loading…", id="alarms-status")

    def on_mount(self) -> None:
        """Columns, what the role may do, the first poll and the timer of the next."""
        add_columns(self.query_one("#alarms", DataTable), ALARM_COLUMNS)
        add_columns(self.query_one("#reports", DataTable), REPORT_COLUMNS)
        self.load_allowed()
        self.poll()
        self.set_interval(self.poll_s, self.poll)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer an alarm action only to a role the policy lets take it; the trend only
        with a source of history."""
        if action == "trend":
            return self.trend is not None
        return action not in _NEEDS or action in self.allowed

    def action_trend(self) -> None:
        """The trend of the highlighted alarm's tag (its condition name less the limit:
        'P-101.BearingTemperature.High' -> 'P-101.BearingTemperature')."""
        alarm = self.highlighted_alarm()
        if alarm is None or self.trend is None:
            self.notify("no alarm to show the trend of", severity="warning")
            return
        tag = alarm.name.rsplit(".", 1)[0] if alarm.name.count(".") >= 2 else alarm.name
        self.app.push_screen(TrendScreen(tag, self.trend, alarms_time_of(self.service)))

    @work(exclusive=True, group="alarms-allowed")
    async def load_allowed(self) -> None:
        """Ask the service what the configured role may do with alarms."""
        try:
            self.allowed = await alarms_of(self.service).alarm_actions()
        except PlantAgentError as exc:
            self.notify(str(exc), title="Alarm actions unavailable", severity="error")
        self.refresh_bindings()

    # -- polling ------------------------------------------------------------------------

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
        """Fetch the alarm board and the reports; a failure shows in the status line."""
        review = alarms_of(self.service)
        problems: list[str] = []
        try:
            self.show_alarms(await review.alarm_board())
        except PlantAgentError as exc:
            problems.append(f"alarms unavailable: {exc.message}")
        try:
            self.show_reports(await review.triage_reports(self.report_limit))
        except PlantAgentError as exc:
            problems.append(f"reports unavailable: {exc.message}")
        status = "; ".join(problems) or (
            f"{len(self.alarms)} alarm(s), {len(self.report_ids)} report(s); "
            f"refreshed every {self.poll_s:g} s")
        self.query_one("#alarms-status", Label).update(status)

    def show_alarms(self, alarms: list[AlarmView]) -> None:
        """Replace the alarm rows (sorted, filtered), keeping the cursor on its alarm."""
        self.alarms = alarms
        self.post_message(self.Counted(
            len(alarms), sum(1 for a in alarms if a.status == "unacknowledged")))
        table = self.query_one("#alarms", DataTable)
        current = self.highlighted_alarm()
        self.shown = arrange(alarms, sort=self.sort, filter_by=self.filter_by)
        top = max((a.rank for a in alarms), default=0)
        site = alarms_time_of(self.service)
        table.clear()
        for alarm in self.shown:
            table.add_row(*alarm_cells(alarm, top, site), key=alarm.condition_id)
        if not self.shown:
            table.add_row("", "", "no alarms" if not alarms else "none match the filter",
                          "", "", "")
        keys = [a.condition_id for a in self.shown]
        if current is not None and current.condition_id in keys:
            table.move_cursor(row=keys.index(current.condition_id))
        priorities = list(dict.fromkeys(a.priority for a in sorted(alarms,
                                                                   key=lambda a: -a.rank)))
        self.query_one("#alarm-counts", Label).update(
            f"{counts_line(alarms, priorities)} · sort: {self.sort} · filter: "
            f"{self.filter_by}")

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
        site = alarms_time_of(self.service)
        table.clear()
        for report in reports:
            table.add_row(*report_row(report, site), key=report.id)
        if current in self.report_ids:
            table.move_cursor(row=self.report_ids.index(current))

    def action_sort(self) -> None:
        """Next sort order."""
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.show_alarms(self.alarms)

    def action_filter(self) -> None:
        """Next filter."""
        self.filter_by = FILTERS[(FILTERS.index(self.filter_by) + 1) % len(FILTERS)]
        self.show_alarms(self.alarms)

    # -- acting on an alarm -------------------------------------------------------------

    def highlighted_alarm(self) -> AlarmView | None:
        """The alarm under the cursor, if any."""
        row = self.query_one("#alarms", DataTable).cursor_row
        return self.shown[row] if 0 <= row < len(self.shown) else None

    # -- reports --------------------------------------------------------------------------

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
            report, text = await alarms_of(self.service).triage_report(report_id)
        except PlantAgentError as exc:
            self.notify(str(exc), title="Cannot open the report", severity="error")
            return
        title = f"{report.id} · {','.join(report.incident.equipment)} · {report.status}"
        await self.app.push_screen(MarkdownScreen(title, text))
