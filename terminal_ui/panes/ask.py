"""The Ask pane: a chat with the agent. The answer streams in while the model writes,
the line above the input says what the agent is doing, Escape cancels, and the cited
evidence is listed under the answer to open with Enter."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker

from agent.errors import PlantAgentError
from agent.pipeline.answer import AgentAnswer
from agent.pipeline.events import AgentEvent
from agent.service.views import CitationView
from terminal_ui.answer_stream import AnswerStream
from terminal_ui.backend import AskBackend
from terminal_ui.evidence import EvidenceScreen

_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class Exchange(Vertical):
    """One question and its answer; ``answer_text`` grows while the model writes."""

    DEFAULT_CSS = """
    Exchange { height: auto; margin-bottom: 1; }
    Exchange .question { color: $accent; text-style: bold; }
    Exchange .meta { color: $text-muted; }
    Exchange .steps { color: $text-muted; }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question
        self.answer_text = ""
        self.meta_text = ""
        #: (what the agent did, seconds after the question) in order.
        self.steps: list[tuple[str, float]] = []

    def compose(self) -> ComposeResult:
        """Question, the steps taken so far, answer, and a line about the answer."""
        yield Static(Text(f"> {self.question}"), classes="question")
        yield Static("", classes="steps")
        yield Static("", classes="answer")
        yield Static("", classes="meta")

    def add_step(self, text: str, elapsed_s: float) -> None:
        """One more thing the agent is doing, listed with when it started."""
        if self.steps and self.steps[-1][0] == text:
            return
        self.steps.append((text, elapsed_s))
        if self.is_mounted:
            lines = [f"  {i}. {what} (at {at:.0f} s)" for i, (what, at)
                     in enumerate(self.steps, 1)]
            self.query_one(".steps", Static).update(Text("\n".join(lines)))

    def fold_steps(self) -> None:
        """Once answered, the steps shrink to one line (the answer's time is in its meta)."""
        if self.is_mounted and self.steps:
            names = " → ".join(what for what, _ in self.steps)
            self.query_one(".steps", Static).update(
                Text(f"  {len(self.steps)} step(s): {names}", no_wrap=True,
                     overflow="ellipsis"))

    def set_answer(self, text: str) -> None:
        """Show ``text`` as the answer so far."""
        self.answer_text = text
        if self.is_mounted:
            self.query_one(".answer", Static).update(Text(text))

    def set_meta(self, text: str, style: str = "") -> None:
        """Show a line under the answer (grounding verdict, time, or cancellation)."""
        self.meta_text = text
        if self.is_mounted:
            self.query_one(".meta", Static).update(Text(text, style=style))


class AskPane(Vertical):
    """The chat pane; see the module docstring."""

    BINDINGS = [Binding("escape", "cancel", "Cancel question")]
    DEFAULT_CSS = """
    AskPane #transcript { height: 1fr; padding: 0 1; }
    AskPane #activity { height: 1; color: $warning; padding: 0 1; }
    AskPane #citations { height: auto; max-height: 5; border: none; display: none; }
    AskPane #citations.shown { display: block; }
    AskPane #question { dock: bottom; }
    """

    def __init__(self, backend: AskBackend, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.backend = backend
        self.stream = AnswerStream()
        self.current: Exchange | None = None
        self.answers: list[AgentAnswer] = []
        self.citation_views: list[CitationView] = []
        self.activity = ""
        self._worker: Worker[None] | None = None
        self._started = 0.0

    def compose(self) -> ComposeResult:
        """Transcript, activity line, citations, input."""
        # The input comes first so it is the pane's first stop for the keyboard; CSS docks
        # it at the bottom.
        yield Input(placeholder="Ask about the plant, then Enter (F1: help)", id="question",
                    max_length=2000)
        yield VerticalScroll(id="transcript")
        yield Static("", id="activity")
        yield OptionList(id="citations")

    def on_mount(self) -> None:
        """Focus the input; tick the activity line while a question runs."""
        self.query_one("#question", Input).focus()
        self.set_interval(0.5, self._tick)

    @property
    def running(self) -> bool:
        """True while a question is being answered."""
        return self._worker is not None and not self._worker.is_finished

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Cancel is offered only while a question runs."""
        return self.running if action == "cancel" else True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Ask the typed question (one at a time)."""
        question = event.value.strip()
        if not question:
            return
        if self.running:
            self.notify("A question is still running: wait, or Escape to cancel it.",
                        title="Busy", severity="warning")
            return
        event.input.value = ""
        self.ask(question)

    def ask(self, question: str) -> None:
        """Start answering ``question`` in a worker."""
        self.current = Exchange(question)
        self.query_one("#transcript", VerticalScroll).mount(self.current)
        self.stream.reset()
        self.show_citations([])  # the list belongs to the answer on screen
        self._started = time.monotonic()
        self._set_activity("asking...")
        self._worker = self.run_worker(self._answer(question, self.current), group="ask",
                                       exclusive=True)
        self.refresh_bindings()

    def action_cancel(self) -> None:
        """Cancel the running question."""
        if self._worker is not None and not self._worker.is_finished:
            self._worker.cancel()
            if self.current is not None:
                self.current.set_meta("cancelled", style="bold yellow")
            self._set_activity("")
            self.refresh_bindings()

    async def _answer(self, question: str, exchange: Exchange) -> None:
        try:
            answer = await self.backend.ask(
                question, lambda event: self._on_event(event, exchange)
            )
        except PlantAgentError as exc:
            exchange.set_meta(f"error: {exc.message}", style="bold red")
            self.notify(exc.fix or exc.message, title=exc.message, severity="error")
            return
        finally:
            self._set_activity("")
            exchange.fold_steps()
            self.call_after_refresh(self.refresh_bindings)
        self.answers.append(answer)
        exchange.set_answer(answer.answer)
        exchange.set_meta(answer_meta(answer),
                          style="green" if answer.grounded else "bold yellow")
        self._scroll_end()
        self.show_citations(await self.backend.citations(answer))

    def _on_event(self, event: AgentEvent, exchange: Exchange) -> None:
        if exchange is not self.current:
            return  # a late event of a cancelled question
        if event.kind == "status":
            self.stream.reset()  # a status line comes before each model step
            self._set_activity(event.text)
            exchange.add_step(event.text, time.monotonic() - self._started)
        elif event.kind == "token":
            text = self.stream.feed(event.text)
            if text != exchange.answer_text:
                exchange.set_answer(text)
                self._scroll_end()
        elif event.kind == "evidence":
            self._set_activity(f"got evidence {event.text}")
            exchange.add_step(f"got evidence {event.text}", time.monotonic() - self._started)

    def show_citations(self, citations: list[CitationView]) -> None:
        """List the evidence of the last answer (Enter opens one)."""
        self.citation_views = citations
        options = self.query_one("#citations", OptionList)
        options.clear_options()
        options.add_options(Option(Text(f"{c.id}  {c.title}", no_wrap=True, overflow="ellipsis"),
                                   id=c.id) for c in citations)
        options.set_class(bool(citations), "shown")
        if citations:
            options.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Open the chosen citation's evidence."""
        chosen = next((c for c in self.citation_views if c.id == event.option.id), None)
        if chosen is not None:
            self.app.push_screen(EvidenceScreen(chosen))

    def _set_activity(self, text: str) -> None:
        self.activity = text
        self._tick()

    def _tick(self) -> None:
        if not self.is_mounted:
            return
        line = ""
        if self.running and self.activity:
            elapsed = time.monotonic() - self._started
            spin = _SPINNER[int(elapsed * 2) % len(_SPINNER)]
            line = f"{spin} {self.activity} ({elapsed:.0f} s, Escape cancels)"
        self.query_one("#activity", Static).update(Text(line, no_wrap=True, overflow="ellipsis"))

    def _scroll_end(self) -> None:
        self.query_one("#transcript", VerticalScroll).scroll_end(animate=False)


def answer_meta(answer: AgentAnswer) -> str:
    """'grounded · 3 citations · 4.2 s · model X', or what is wrong with the answer."""
    if answer.outcome != "answered":
        verdict = answer.outcome.replace("_", " ")
    elif answer.grounded:
        verdict = "grounded"
    else:
        claims = ", ".join(c.text for c in answer.unsupported[:3])
        verdict = f"NOT fully grounded (unverified: {claims})"
    cites = f"{len(answer.citations)} citation(s)"
    return f"{verdict} · {cites} · {answer.timings.total_s:.1f} s · {answer.model}"
