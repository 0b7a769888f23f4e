"""The shift handover pane: pick the window, generate in a worker with its progress shown,
read the cited lines and the evidence each id stands for.

The model writes the lines from the shift's evidence; a line the grounding check cannot
support after one redraft is replaced by the template's line for its facts, and the lines
the model wrote are marked "(model)"; ``m`` switches to the deterministic template.

Over the site service (a backend that is also :class:`HandoverAcking`) the service writes
it as the caller's, the pane shows the newest handover on the site with who acknowledged
it, and ``k`` acknowledges that one, signed with the person's own key.
"""

from __future__ import annotations

import time
from datetime import timedelta

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Label, Markdown, ProgressBar
from textual.worker import Worker

from agent.errors import PlantAgentError
from agent.handover.models import HandoverReport
from terminal_ui.panes.review_backend import HandoverAcking, HandoverHost, handover_of
from terminal_ui.panes.review_dialogs import NoteScreen
from terminal_ui.remote_handover import HandoverStanding

#: The windows ``w`` cycles through: the site's shift (None), then hours.
WINDOWS_H: tuple[int | None, ...] = (None, 4, 8, 12, 24)
EMPTY = "Press **g** to write the handover of the last shift."


def outcome_line(report: HandoverReport) -> str:
    """Grounded or not, who wrote it (how many lines the model wrote), how long it took."""
    verdict = "grounded" if report.grounded else f"{len(report.unsupported)} unsupported claim(s)"
    writer = report.model if report.model == "template" else (
        f"{report.model} ({report.model_lines} of {len(report.lines)} lines; the rest template)")
    return (f"{len(report.lines)} lines, {len(report.evidence)} evidence items · {verdict} · "
            f"written by {writer} in {report.seconds:.1f} s")


class HandoverPane(Widget, can_focus=True):
    """Window and writer on top, progress while it runs, the handover below. The pane
    itself takes the keyboard (F7), so its keys work before anything is written."""

    DEFAULT_CSS = """
    HandoverPane { layout: vertical; height: 1fr; }
    HandoverPane .handover-line { width: 100%; padding: 0 1; }
    HandoverPane #handover-settings { background: $panel; }
    HandoverPane #handover-progress { display: none; padding: 0 1; }
    HandoverPane.-running #handover-progress { display: block; }
    HandoverPane #handover-view { height: 1fr; }
    HandoverPane #handover-view Markdown { margin: 0 1; }
    HandoverPane #handover-outcome { color: $text-muted; }
    """
    BINDINGS = [
        Binding("g", "generate", "Generate"),
        Binding("w", "cycle_window", "Window"),
        Binding("m", "toggle_model", "Model/template"),
        Binding("k", "acknowledge", "Acknowledge"),
        Binding("escape", "cancel", "Cancel", show=False),
    ]

    def __init__(self, service: HandoverHost, *, window_h: int | None = None,
                 use_model: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self.service = service
        self.window_h = window_h
        self.use_model = use_model
        self.report: HandoverReport | None = None
        self.worker: Worker[None] | None = None
        self._started = 0.0
        self._step = ""
        #: The newest handover on the site (with a backend that acknowledges).
        self.standing: HandoverStanding | None = None

    def compose(self) -> ComposeResult:
        """Settings line, progress, the handover, the outcome line."""
        yield Label("", id="handover-settings", classes="handover-line")
        yield Label("", id="handover-acks", classes="handover-line")
        yield ProgressBar(total=None, show_eta=False, id="handover-progress")
        yield Label("", id="handover-step", classes="handover-line")
        with VerticalScroll(id="handover-view"):
            yield Markdown(EMPTY, id="handover-text")
        yield Label("", id="handover-outcome", classes="handover-line")

    def on_mount(self) -> None:
        """Show the settings and tick the progress line while a handover is written."""
        self._show_settings()
        self.set_interval(0.5, self._tick)
        if self._acking() is not None:
            self.load_standing()
        else:
            self.query_one("#handover-acks", Label).display = False

    def _acking(self) -> HandoverAcking | None:
        review = self.service.review
        return review if isinstance(review, HandoverAcking) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer ``k`` only where the backend acknowledges (the site service)."""
        return action != "acknowledge" or self._acking() is not None

    @work(exclusive=True, group="handover-acks")
    async def load_standing(self) -> None:
        """Read the newest handover and its acknowledgements."""
        acking = self._acking()
        if acking is None:
            return
        try:
            self.standing = await acking.newest_handover()
        except PlantAgentError as exc:
            self.standing = None
            self.query_one("#handover-acks", Label).update(exc.message)
            return
        self.query_one("#handover-acks", Label).update(
            f"{self.standing.line()} · k acknowledges")

    def action_acknowledge(self) -> None:
        """Acknowledge the newest handover (the one the line names), with a note."""
        if self.standing is None:
            self.notify("no handover to acknowledge", severity="warning")
            return
        seq = self.standing.seq
        self.app.push_screen(
            NoteScreen(f"Acknowledge handover {seq}", self.standing.line(),
                       "note (optional; Enter acknowledges, signed with your key)",
                       required=False),
            lambda note: self._noted(seq, note))

    def _noted(self, seq: int, note: str | None) -> None:
        """The dialog's answer: None (Escape) acknowledges nothing."""
        if note is not None:
            self._ack(seq, note)

    @work(group="handover-ack")
    async def _ack(self, seq: int, note: str) -> None:
        acking = self._acking()
        assert acking is not None
        try:
            self.standing = await acking.acknowledge_handover(seq, note)
        except PlantAgentError as exc:
            self.notify(str(exc), title=f"Cannot acknowledge handover {seq}",
                        severity="error", timeout=10)
            self.query_one("#handover-step", Label).update(
                f"acknowledge refused: {exc.message}")
            return
        self.notify(f"handover {seq} acknowledged, signed with your key", title="Handover")
        self.query_one("#handover-acks", Label).update(
            f"{self.standing.line()} · k acknowledges")

    def _show_settings(self) -> None:
        writer = "model, grounding-checked" if self.use_model else "template (no model)"
        window = "this shift" if self.window_h is None else f"last {self.window_h} h"
        self.query_one("#handover-settings", Label).update(
            f"Window: {window} (w) · writer: {writer} (m) · g generates")

    def action_cycle_window(self) -> None:
        """The next window: the site's shift, then 4, 8, 12, 24 hours."""
        at = WINDOWS_H.index(self.window_h) if self.window_h in WINDOWS_H else -1
        self.window_h = WINDOWS_H[(at + 1) % len(WINDOWS_H)]
        self._show_settings()

    def action_toggle_model(self) -> None:
        """Model-written or template lines."""
        self.use_model = not self.use_model
        self._show_settings()

    def action_generate(self) -> None:
        """Build the handover in a worker (one at a time)."""
        if self.worker is not None and self.worker.is_running:
            self.notify("a handover is being written already", severity="warning")
            return
        since = None if self.window_h is None else timedelta(hours=self.window_h)
        self.worker = self.generate(since, self.use_model)

    def action_cancel(self) -> None:
        """Stop a handover being written."""
        if self.worker is not None and self.worker.is_running:
            self.worker.cancel()
            self._set_running(False)
            self.query_one("#handover-step", Label).update("cancelled")

    def _set_running(self, running: bool) -> None:
        self.set_class(running, "-running")
        if running:
            self._started = time.monotonic()

    def _progress(self, text: str) -> None:
        self._step = text
        self._tick()

    def _tick(self) -> None:
        if self.has_class("-running"):
            elapsed = time.monotonic() - self._started
            self.query_one("#handover-step", Label).update(
                f"{self._step or 'starting'}… {elapsed:.0f} s (Escape cancels)")

    @work(exclusive=True, group="handover")
    async def generate(self, since: timedelta | None, use_model: bool) -> None:
        """Gather the shift's evidence, write the lines, check them; show the result."""
        self._step = ("gathering the shift" if since is None
                      else f"gathering the last {since.total_seconds() / 3600:g} h")
        self._set_running(True)
        try:
            report = await handover_of(self.service).handover(
                since, use_model=use_model, on_progress=self._progress)
        except PlantAgentError as exc:
            self.notify(str(exc), title="Handover failed", severity="error", timeout=10)
            self.query_one("#handover-step", Label).update(f"failed: {exc.message}")
            return
        finally:
            self._set_running(False)
        await self.show_report(report)
        if self._acking() is not None:
            self.load_standing()  # the one just written is now the newest

    async def show_report(self, report: HandoverReport) -> None:
        """Show a handover: its cited lines by section, then the evidence. ``report`` is
        set once it is all on screen."""
        self.query_one("#handover-step", Label).update("")
        await self.query_one("#handover-text", Markdown).update(report.markdown())
        self.query_one("#handover-outcome", Label).update(outcome_line(report))
        self.query_one("#handover-view", VerticalScroll).scroll_home(animate=False)
        self.report = report
