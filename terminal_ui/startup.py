"""The screen shown while the app starts: what is being opened (the plant's OPC UA server,
the model), how long it has taken, and a server that is down said so while it is retried.

The app starts at once; the slow or failing parts are opened by a *starter* the command
line gives (``agent.cli.tui_cmd``), which reports each stage here and returns the agent
service once everything is up. The UI never imports the runtime itself.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from rich.text import Text
from textual.widgets import Static

from agent.service import AgentService
from terminal_ui.remote import SiteServiceBackend


class StartProgress(Protocol):
    """How a starter reports a stage: ("opcua", "server down; trying again"); ``done``
    when the stage is finished."""

    def __call__(self, stage: str, text: str, *, done: bool = False) -> None:
        """Report ``stage``'s state."""
        ...


#: Opens the agent service (or connects to the site service), reporting progress; raises
#: PlantAgentError when it cannot.
Starter = Callable[[StartProgress], Awaitable[AgentService | SiteServiceBackend]]

#: The stages in the order they show, and their labels.
STAGES = (("site", "Site"), ("opcua", "OPC UA"), ("model", "Model"), ("service", "Agent"))
_PROBLEM_WORDS = ("down", "failed", "cannot", "error")


@dataclass
class _Stage:
    text: str
    since: float
    done: bool


class StartupView(Static):
    """One line a stage: what it is doing and for how long; problems in red."""

    DEFAULT_CSS = """
    StartupView { padding: 1 2; height: 1fr; }
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(id="startup")
        self.clock = clock
        self.stages: dict[str, _Stage] = {}
        self.failed: str | None = None

    def on_mount(self) -> None:
        """Tick the elapsed times."""
        self.set_interval(0.5, self.redraw)
        self.redraw()

    def report(self, stage: str, text: str, *, done: bool = False) -> None:
        """A stage's new state (``done`` stops its clock)."""
        self.stages[stage] = _Stage(text, self.clock(), done)
        self.redraw()

    def fail(self, message: str, fix: str) -> None:
        """Starting failed for good: say what and how to fix it."""
        self.failed = f"{message}\n  fix: {fix}"
        self.redraw()

    def plain(self) -> str:
        """The view's text (for tests and logs)."""
        return self._text().plain

    def _text(self) -> Text:
        out = Text("plantagent is starting", style="bold")
        out.append("  (Ctrl+Q quits)\n\n", style="dim")
        now = self.clock()
        for key, label in STAGES:
            stage = self.stages.get(key)
            if stage is None:
                continue
            problem = any(w in stage.text for w in _PROBLEM_WORDS)
            mark, style = ("✓", "green") if stage.done else (
                ("✗", "bold red") if problem else ("…", "yellow"))
            out.append(f" {mark} {label:<7}", style=style)
            out.append(stage.text, style="red" if problem and not stage.done else "")
            if not stage.done:
                out.append(f"  ({now - stage.since:.0f} s)", style="dim")
            out.append("\n")
        if self.failed:
            out.append(f"\ncould not start: {self.failed}\n", style="bold red")
        return out

    def redraw(self) -> None:
        """Draw the lines again (the elapsed times move)."""
        self.update(self._text())
