"""Helpers of the terminal UI tests: settings, scripted steps, a model that blocks until
cancelled, a recorded backend for snapshot tests, and waiting on the app."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Footer, Tree

from agent.llm.base import ChatMessage, JsonSchema, StepResult, TokenCallback
from agent.llm.scripted import ScriptedModel
from agent.pipeline.answer import AgentAnswer
from agent.pipeline.events import AgentEvent
from agent.runtime import SiteRuntime
from agent.service import AgentService, open_service
from agent.service.views import CitationView, PlantSnapshot, ServiceStatus
from agent.settings import Settings
from terminal_ui.panes.plant import PlantPane
from terminal_ui.status import StatusBar
from terminal_ui.trend import TrendScreen
from tests.support.sites import PASSPHRASE
from tests.support.sites import site_settings as shared_settings

__all__ = ["PASSPHRASE"]

SHIFT_LEAD = "tui-shift-lead"
FIXTURE = Path(__file__).with_name("tui_recorded.json")


def site_settings(home: Path, **overrides: Any) -> Settings:
    """Settings of a test site: the shift lead asks, the model runs on one thread."""
    model = {"threads": 1, **overrides.pop("model", {})}
    return shared_settings(home, user=SHIFT_LEAD, model=model, **overrides)


def final(text: str, *cites: str) -> dict[str, Any]:
    """A scripted final answer step."""
    return {"action": "final_answer", "answer": text, "citations": list(cites)}


class HoldingModel(ScriptedModel):
    """A scripted model that, when ``hold`` is set, writes the first ``hold_at`` characters
    of its next step and then waits (with empty heartbeat tokens, where a cancelled
    question's callback raises) until ``release`` is set."""

    def __init__(self, steps: Sequence[str | dict[str, Any] | BaseException] = (),
                 *, hold_at: int = 0) -> None:
        super().__init__(steps)
        self.hold_at = hold_at
        self.hold = threading.Event()
        self.release = threading.Event()
        self.held = threading.Event()
        self.stopped_by: BaseException | None = None

    def step(self, prefix: Sequence[ChatMessage], history: Sequence[ChatMessage],
             schema: JsonSchema, *, on_token: TokenCallback | None = None,
             max_tokens: int = 512) -> StepResult:
        """The next scripted step, held half-way while ``hold`` is set."""
        if not self.hold.is_set():
            return super().step(prefix, history, schema, on_token=on_token,
                                max_tokens=max_tokens)
        self.hold.clear()
        shown = self.peek()[: self.hold_at]
        self.held.set()
        try:
            if on_token is not None and shown:
                on_token(shown)
            deadline = time.monotonic() + 30
            while not self.release.wait(0.05) and time.monotonic() < deadline:
                if on_token is not None:
                    on_token("")
        except BaseException as exc:  # recorded for the test, then re-raised
            self.stopped_by = exc
            raise
        skipped = [len(shown)]

        def rest(piece: str) -> None:
            cut = min(skipped[0], len(piece))
            skipped[0] -= cut
            if piece[cut:] and on_token is not None:
                on_token(piece[cut:])

        return super().step(prefix, history, schema, on_token=rest, max_tokens=max_tokens)

    def peek(self) -> str:
        """The JSON text of the next queued step."""
        item = self._queue[0]
        return item if isinstance(item, str) else ""


@asynccontextmanager
async def scripted_service(settings: Settings, endpoint: str, model: ScriptedModel,
                           **options: Any) -> AsyncIterator[AgentService]:
    """The agent service over the test site and plant with ``model`` (entering through
    the site runtime, as `plantagent tui` builds it)."""
    options.setdefault("triage", False)
    async with SiteRuntime(settings, endpoint=endpoint, model=model, passphrase=PASSPHRASE,
                           plant_name="the demo plant") as runtime, \
            open_service(runtime, **options) as service:
        yield service


async def wait_for(condition: Callable[[], bool], pilot: Pilot[Any], *,
                   limit_s: float = 30.0, what: str = "condition") -> None:
    """Let the app run until ``condition()`` holds (AssertionError after ``limit_s``)."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def trend_shown(app: App[Any], pilot: Pilot[Any]) -> TrendScreen:
    """The trend screen a key just opened, once its history has arrived."""
    await wait_for(lambda: isinstance(app.screen, TrendScreen), pilot,
                   what="the trend screen")
    trend = app.screen
    assert isinstance(trend, TrendScreen)
    await wait_for(lambda: trend.view is not None, pilot, what="the history")
    return trend


async def open_trend(app: App[Any], pilot: Pilot[Any], pane: PlantPane,
                     tag: str) -> TrendScreen:
    """Enter on ``tag`` in the Plant tab's tree: its trend screen, with its history."""
    assert pane.show_tag(tag)
    tree = pane.query_one("#plant-tree", Tree)
    await wait_for(lambda: tree.cursor_node is not None and tree.cursor_node.data == tag,
                   pilot, what="the cursor on the tag")
    await pilot.press("enter")
    return await trend_shown(app, pilot)


async def focus_settled(app: App[Any], pilot: Pilot[Any]) -> None:
    """Wait until the app has put the keyboard where it starts (the question input)."""
    await wait_for(lambda: getattr(app.focused, "id", None) == "question", pilot,
                   what="the question input to get the focus")


def screen_text(app: App[Any]) -> str:
    """What the terminal shows, as plain text (rendered the way export_screenshot does)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False)
    update = app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens
    )
    console.print(update)
    return console.export_text()


class Recorded:
    """Data recorded from a real run (tests/terminal_ui/app/tui_recorded.json): the events
    and answer of one question, its citations, a plant snapshot and a status."""

    def __init__(self, path: Path = FIXTURE) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.question: str = data["question"]
        self.events = [AgentEvent(e["kind"], e["text"]) for e in data["events"]]
        self.answer = AgentAnswer.model_validate(data["answer"])
        self.citation_list = [CitationView.model_validate(c) for c in data["citations"]]
        self.plant = PlantSnapshot.model_validate(data["plant"])
        self.status_value = ServiceStatus.model_validate(data["status"])


class RecordedBackend:
    """The service's ask/citations/plant/status methods, replaying recorded data."""

    def __init__(self, recorded: Recorded) -> None:
        self.recorded = recorded

    async def ask(self, question: str, on_event: Callable[[AgentEvent], None]) -> AgentAnswer:
        """Replay the recorded events, then return the recorded answer."""
        for event in self.recorded.events:
            on_event(event)
            await asyncio.sleep(0)
        return self.recorded.answer

    async def citations(self, answer: AgentAnswer) -> list[CitationView]:
        """The recorded citations."""
        return self.recorded.citation_list

    async def plant_snapshot(self) -> PlantSnapshot:
        """The recorded plant."""
        return self.recorded.plant

    async def status(self) -> ServiceStatus:
        """The recorded status."""
        return self.recorded.status_value


class PaneApp(App[None]):
    """One pane with the status bar and key hints, as the full app shows it."""

    def __init__(self, backend: RecordedBackend, pane: Callable[[RecordedBackend], Widget]):
        super().__init__()
        self.backend = backend
        self.make_pane = pane

    def compose(self) -> ComposeResult:
        """Status bar, pane, footer."""
        yield StatusBar(self.backend)
        yield self.make_pane(self.backend)
        yield Footer()
