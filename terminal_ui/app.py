"""PlantAgentApp: the terminal UI of plantagent (`plantagent tui`, `plantagent demo`).

Tabs for Ask, Plant, Alarms, Approvals, Audit and Handover, a status bar on top, key
hints at the bottom and a help screen; every pane does its slow work in Textual workers.
The app talks only to the agent service it is given.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, TabbedContent, TabPane

from agent.service import AgentService
from terminal_ui.help import HelpScreen
from terminal_ui.panes.alarms import AlarmsPane
from terminal_ui.panes.approvals import ApprovalsPane
from terminal_ui.panes.ask import AskPane
from terminal_ui.panes.audit import AuditPane
from terminal_ui.panes.handover import HandoverPane
from terminal_ui.panes.plant import PlantPane
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

    def __init__(self, service: AgentService, *, initial_tab: str = "ask") -> None:
        super().__init__()
        self.service = service
        self.initial_tab = initial_tab
        self._start_pending = False

    def compose(self) -> ComposeResult:
        """Status bar, the tabs with their panes, key hints."""
        yield StatusBar(self.service)
        with TabbedContent(initial=self.initial_tab, id="tabs"):
            with TabPane("F2 Ask", id="ask"):
                yield AskPane(self.service, id="ask-pane")
            with TabPane("F3 Plant", id="plant"):
                yield PlantPane(self.service, id="plant-pane")
            with TabPane("F4 Alarms", id="alarms"):
                yield AlarmsPane(self.service)
            with TabPane("F5 Approvals", id="approvals"):
                yield ApprovalsPane(self.service)
            with TabPane("F6 Audit", id="audit"):
                yield AuditPane(self.service)
            with TabPane("F7 Handover", id="handover"):
                yield HandoverPane(self.service)
        yield Footer()

    def on_mount(self) -> None:
        """Start on the initial tab with the keyboard in it: a pane that focuses one of its
        widgets while mounting also switches the tabs to itself. A tab the user picks
        before that first refresh wins."""
        self._start_pending = True
        self.call_after_refresh(self._show_initial_tab)

    def _show_initial_tab(self) -> None:
        if self._start_pending:
            self.action_show_tab(self.initial_tab)

    def action_show_tab(self, tab: str) -> None:
        """Switch to ``tab`` and put the keyboard in it."""
        self._start_pending = False
        tabs = self.query_one("#tabs", TabbedContent)
        tabs.active = tab
        self.call_after_refresh(self._focus_pane, tab)

    def _focus_pane(self, tab: str) -> None:
        pane = self.query_one(f"#{tab}", TabPane)
        focusable = [w for w in pane.query("*") if w.focusable]
        if focusable:
            focusable[0].focus()

    def action_help(self) -> None:
        """Show the help screen (unless it is open)."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())
