"""PlantAgentApp: the terminal UI of plantagent (`plantagent tui`, `plantagent demo`).

Tabs for Ask, Plant, Alarms, Approvals, Audit and Handover, a status bar on top, key
hints at the bottom and a help screen; every pane does its slow work in Textual workers.
The app talks only to the agent service it is given, or that its starter opens: then it
starts at once, shows the start (a plant server that is down, the model loading) and
switches to the tabs once the service is up. Given the site service's client
(:class:`~terminal_ui.remote.SiteServiceBackend`) instead, it asks, reads the plant and
works the Alarms, Approvals and Handover tabs through the service, and shows an auditor
the Audit tab read-only.
"""

from __future__ import annotations

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, TabbedContent, TabPane

from agent.errors import PlantAgentError
from agent.service import AgentService
from terminal_ui.commands import PlantCommands
from terminal_ui.help import HelpScreen
from terminal_ui.panes.alarms import AlarmsPane
from terminal_ui.panes.approvals import ApprovalsPane
from terminal_ui.panes.ask import AskPane
from terminal_ui.panes.audit import AuditPane
from terminal_ui.panes.handover import HandoverPane
from terminal_ui.panes.plant import PlantPane
from terminal_ui.remote import SiteServiceBackend
from terminal_ui.startup import Starter, StartupView
from terminal_ui.status import StatusBar

#: (tab id, title, key) in the order the tabs show.
TABS = (
    ("ask", "Ask", "f2"),
    ("plant", "Plant", "f3"),
    ("alarms", "Alarms", "f4"),
    ("approvals", "Approvals", "f5"),
    ("audit", "Audit", "f6"),
    ("handover", "Handover", "f7"),
)


class PlantAgentApp(App[None]):
    """The app over one :class:`~agent.service.AgentService`."""

    TITLE = "plantagent"
    COMMANDS = App.COMMANDS | {PlantCommands}
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        *(Binding(key, f"show_tab('{tab}')", title, show=False, priority=True)
          for tab, title, key in TABS),
        Binding("ctrl+q", "quit", "Quit"),
    ]
    CSS = """
    TabbedContent { height: 1fr; }
    TabPane { padding: 0; }
    """

    def __init__(self, service: AgentService | SiteServiceBackend | None = None, *,
                 starter: Starter | None = None,
                 initial_tab: str = "ask") -> None:
        super().__init__()
        if (service is None) == (starter is None):
            raise ValueError("give the app a service or a starter, not both")
        self.service = service
        self.starter = starter
        self.initial_tab = initial_tab
        self._start_pending = False
        self._alarm_counts = (0, 0)
        self._retried_tab = False
        #: The screen holding the tabs when a starter opened the service.
        self._main: MainScreen | None = None

    def compose(self) -> ComposeResult:
        """Status bar, the tabs with their panes, key hints; while a starter opens the
        service, the start's progress."""
        if self.service is None:
            yield StartupView()
            yield Footer()
            return
        yield from main_widgets(self.service, self.initial_tab)

    def on_mount(self) -> None:
        """Start on the initial tab with the keyboard in it: a pane that focuses one of its
        widgets while mounting also switches the tabs to itself. A tab the user picks
        before that first refresh wins. With a starter, open the service first."""
        if self.service is None:
            self.start()
            return
        self._start_pending = True
        self.call_after_refresh(self._show_initial_tab)

    @work(exclusive=True, group="start")
    async def start(self) -> None:
        """Open the service through the starter (its stages shown), then show the tabs."""
        assert self.starter is not None
        view = self.query_one(StartupView)
        try:
            service = await self.starter(view.report)
        except PlantAgentError as exc:
            view.fail(exc.message, exc.fix or "see the log (-v)")
            return
        self.service = service
        self._main = MainScreen(service, self.initial_tab)
        await self.push_screen(self._main)
        self._start_pending = True
        self.call_after_refresh(self._show_initial_tab)

    @property
    def started(self) -> bool:
        """True once the tabs show."""
        return self._main is not None or self.starter is None

    def _show_initial_tab(self) -> None:
        if self._start_pending:
            self.action_show_tab(self.initial_tab)

    def action_show_tab(self, tab: str) -> None:
        """Switch to ``tab`` and put the keyboard in it."""
        self._start_pending = False
        if not self.started:
            return
        try:
            tabs = (self._main or self).query_one("#tabs", TabbedContent)
            tabs.active = tab
        except (NoMatches, ValueError):  # pushed tabs not mounted yet: once more, later
            if not self._retried_tab:
                self._retried_tab = True
                self.call_after_refresh(self.action_show_tab, tab)
            return
        self.call_after_refresh(self._focus_pane, tab)

    def _focus_pane(self, tab: str) -> None:
        pane = (self._main or self).query_one(f"#{tab}", TabPane)
        focusable = [w for w in pane.query("*") if w.focusable]
        if focusable:
            focusable[0].focus()

    def on_alarms_pane_counted(self, message: AlarmsPane.Counted) -> None:
        """Alarm counts on the Alarms tab's title and in the status bar."""
        self._alarm_counts = (message.total, message.unacknowledged)
        self._show_alarm_counts()

    def _show_alarm_counts(self) -> None:
        total, unacknowledged = self._alarm_counts
        root = self._main or self
        try:
            tab = root.query_one("#tabs", TabbedContent).get_tab("alarms")
        except (NoMatches, ValueError):  # the first poll can beat the tabs' own mount
            self.call_after_refresh(self._show_alarm_counts)
            return
        unack = f", {unacknowledged}!" if unacknowledged else ""
        tab.label = f"F4 Alarms ({total}{unack})"
        root.query_one(StatusBar).show_alarms(total, unacknowledged)

    def action_help(self) -> None:
        """Show the help screen (unless it is open)."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def main_widgets(service: AgentService | SiteServiceBackend,
                 initial_tab: str) -> ComposeResult:
    """Status bar, the tabs with their panes, key hints (inside a compose); with the
    site service, the same tabs over its socket."""
    yield StatusBar(service)
    if isinstance(service, SiteServiceBackend):
        with TabbedContent(initial=initial_tab, id="tabs"):
            for tab, title, key in TABS:
                with TabPane(f"{key.upper()} {title}", id=tab):
                    if tab == "ask":
                        yield AskPane(service, id="ask-pane")
                    elif tab == "plant":  # read through the service, trends too
                        yield PlantPane(service, id="plant-pane", trend=service.trend,
                                        site=service.review.site_time)
                    elif tab == "approvals":  # decided through it, signed here
                        yield ApprovalsPane(service)
                    elif tab == "alarms":  # read and acted on through it, trends too
                        yield AlarmsPane(service, trend=service.trend)
                    elif tab == "handover":  # written by it, acknowledged signed here
                        yield HandoverPane(service)
                    else:  # audit: read-only, for a connection in the auditor role
                        yield AuditPane(service)
        yield Footer()
        return
    with TabbedContent(initial=initial_tab, id="tabs"):
        with TabPane("F2 Ask", id="ask"):
            yield AskPane(service, id="ask-pane")
        with TabPane("F3 Plant", id="plant"):
            yield PlantPane(service, id="plant-pane", trend=service.trend,
                            site=service.review.site_time if service.review else None)
        with TabPane("F4 Alarms", id="alarms"):
            yield AlarmsPane(service, trend=service.trend)
        with TabPane("F5 Approvals", id="approvals"):
            yield ApprovalsPane(service)
        with TabPane("F6 Audit", id="audit"):
            yield AuditPane(service)
        with TabPane("F7 Handover", id="handover"):
            yield HandoverPane(service)
    yield Footer()


class MainScreen(Screen[None]):
    """The tabs, once a starter has opened the service."""

    def __init__(self, service: AgentService | SiteServiceBackend, initial_tab: str) -> None:
        super().__init__()
        self.service = service
        self.initial_tab = initial_tab

    def compose(self) -> ComposeResult:
        """Status bar, the tabs, key hints."""
        yield from main_widgets(self.service, self.initial_tab)
