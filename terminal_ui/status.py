"""The status bar: model and speed, OPC UA state, egress guard, user and role."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from agent.errors import PlantAgentError
from agent.service.views import ServiceStatus
from terminal_ui.backend import StatusBackend

_CONNECTION_STYLE = {"connected": "bold green", "reconnecting": "bold yellow",
                     "down": "bold white on red"}
#: Seconds between two refreshes of the bar.
REFRESH_S = 2.0
#: Longest model name shown; longer ones are cut (the full name is in `plantagent models`).
MODEL_CHARS = 24


def alarm_count_text(total: int, unacknowledged: int) -> Text:
    """'3 alarms, 2 unack' (red while any is unacknowledged), 'no alarms'."""
    if total == 0:
        return Text("no alarms", style="green")
    text = Text(f"{total} alarm{'s' if total != 1 else ''}", style="bold yellow")
    if unacknowledged:
        text.append(f", {unacknowledged} unack", style="bold white on red")
    return text


def status_text(status: ServiceStatus, width: int | None = None,
                alarms: tuple[int, int] | None = None) -> Text:
    """One line, most important first, so a narrow terminal cuts the least useful part
    (``width`` cuts it with an ellipsis); ``alarms`` (total, unacknowledged) once the
    alarms tab has counted them."""
    text = Text(no_wrap=True)
    text.append(" OPC UA ")
    text.append(status.connection, style=_CONNECTION_STYLE[status.connection])
    text.append(" │ ")
    if alarms is not None:
        text.append_text(alarm_count_text(*alarms))
        text.append(" │ ")
    guard_style = "bold green" if status.egress.startswith("on-site") else "bold red"
    text.append(status.egress, style=guard_style)
    text.append(" │ ")
    text.append(f"{status.user} ({status.role})", style="bold")
    text.append(" │ ")
    speed = f" {status.tokens_per_s:.1f} tok/s" if status.tokens_per_s else ""
    model = status.model if len(status.model) <= MODEL_CHARS else \
        status.model[: MODEL_CHARS - 1] + "…"
    text.append(f"{model}{speed}", style="cyan")
    if status.triage:
        text.append(" │ triage: ")
        text.append(status.triage, style="dim")
    if width is not None and width > 0:
        text.truncate(width, overflow="ellipsis")
    return text


class StatusBar(Static):
    """A one-line bar refreshed in a worker; it never waits on the service itself."""

    DEFAULT_CSS = """
    StatusBar { dock: top; height: 1; background: $panel; color: $text; }
    """

    def __init__(self, backend: StatusBackend, *, refresh_s: float = REFRESH_S) -> None:
        super().__init__(" connecting...", id="status-bar")
        self.backend = backend
        self.refresh_s = refresh_s
        self.last: ServiceStatus | None = None
        #: What keeps the bar from showing the status (the site service gone), if anything.
        self.problem: str | None = None
        #: (total, unacknowledged) as the alarms tab last counted them.
        self.alarms: tuple[int, int] | None = None

    def on_mount(self) -> None:
        """Refresh now and every few seconds."""
        self.refresh_status()
        self.set_interval(self.refresh_s, self.refresh_status)

    def refresh_status(self) -> None:
        """Fetch the status in a worker (a new one replaces a pending one)."""
        self.run_worker(self._fetch(), group="status", exclusive=True)

    async def _fetch(self) -> None:
        try:
            status = await self.backend.status()
        except PlantAgentError as exc:  # the site service stopped: said, never a crash
            self.last = None
            self.problem = exc.message
            self.update(Text(f" {exc.message}", style="bold white on red", no_wrap=True,
                             overflow="ellipsis"))
            return
        self.problem = None
        self.show(status)

    def show(self, status: ServiceStatus) -> None:
        """Render ``status`` cut to the bar's width."""
        self.last = status
        self.update(status_text(status, self.size.width or None, self.alarms))

    def show_alarms(self, total: int, unacknowledged: int) -> None:
        """The alarm counts to show from now on."""
        self.alarms = (total, unacknowledged)
        if self.last is not None:
            self.show(self.last)

    def on_resize(self) -> None:
        """Cut the line again for the new width."""
        if self.last is not None:
            self.show(self.last)
