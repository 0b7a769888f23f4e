"""Small modal dialogs of the review panes: confirm, a note, a reviewer's note on records.

Each returns its answer through ``dismiss`` (None when cancelled with Escape), so a pane
pushes it with a callback and never waits on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from agent.audit.review import VERDICTS

DIALOG_CSS = """
ModalScreen { align: center middle; }
ModalScreen > Vertical {
    width: 76; max-width: 100%; height: auto; max-height: 100%;
    border: thick $accent; background: $surface; padding: 0 1;
}
ModalScreen .dialog-title { text-style: bold; width: 100%; }
ModalScreen .dialog-body { width: 100%; margin: 1 0; }
ModalScreen Horizontal { height: auto; align-horizontal: right; }
ModalScreen Button { margin-left: 1; min-width: 10; }
ModalScreen .dialog-error { color: $error; width: 100%; }
"""


class ConfirmScreen(ModalScreen[bool]):
    """Yes or no to one action, described in full: y / n / Escape."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "Cancel"),
    ]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        """Title, what will happen, and the two buttons."""
        with Vertical():
            yield Label(self.title_text, classes="dialog-title")
            yield Label(self.body, classes="dialog-body")
            with Horizontal():
                yield Button("Yes (y)", id="yes", variant="warning")
                yield Button("No (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """A button answers like its key."""
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        """Close with the answer."""
        self.dismiss(yes)


class NoteScreen(ModalScreen[str | None]):
    """One line of text (a deny note): Enter sends it, Escape cancels."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, body: str, placeholder: str, *, required: bool) -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.placeholder = placeholder
        self.required = required

    def compose(self) -> ComposeResult:
        """Title, explanation, the input and where an error shows."""
        with Vertical():
            yield Label(self.title_text, classes="dialog-title")
            yield Label(self.body, classes="dialog-body")
            yield Input(placeholder=self.placeholder, id="note")
            yield Label("", id="error", classes="dialog-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter: send the note, unless one is required and it is empty."""
        text = event.value.strip()
        if self.required and not text:
            self.query_one("#error", Label).update("a note is required (Escape cancels)")
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        """Escape: no note, nothing happens."""
        self.dismiss(None)


@dataclass(frozen=True)
class ReviewNoteInput:
    """What a reviewer entered: the record range, the verdict and the note."""

    first: int
    last: int
    verdict: str
    note: str


def parse_range(text: str) -> tuple[int, int] | None:
    """'42' or '10-25' as (first, last); None when it is neither or runs backwards."""
    first, sep, last = (part.strip() for part in text.partition("-"))
    if not first.isdigit() or (sep and not last.isdigit()):
        return None
    low, high = int(first), int(last) if sep else int(first)
    return (low, high) if 1 <= low <= high else None


class ReviewNoteScreen(ModalScreen[ReviewNoteInput | None]):
    """A signed reviewer note on a range of records: range, verdict, text."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, default_range: str) -> None:
        super().__init__()
        self.default_range = default_range

    def compose(self) -> ComposeResult:
        """Range, verdict and note inputs; Enter in the note signs and appends it."""
        with Vertical():
            yield Label("Add a signed review note", classes="dialog-title")
            yield Input(self.default_range, placeholder="records, e.g. 12 or 10-25", id="range")
            yield Select([(v, v) for v in VERDICTS], value=VERDICTS[0], allow_blank=False,
                         id="verdict")
            yield Input(placeholder="note (Enter signs and appends it)", id="note")
            yield Label("", id="error", classes="dialog-error")

    def on_mount(self) -> None:
        """Start in the note: the range is usually right already."""
        self.query_one("#note", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in any input: check everything and close with it."""
        error = self.query_one("#error", Label)
        span = parse_range(self.query_one("#range", Input).value)
        note = self.query_one("#note", Input).value.strip()
        if span is None:
            error.update("records: give one number or A-B with A <= B")
            self.query_one("#range", Input).focus()
            return
        if event.input.id != "note":
            self.query_one("#note", Input).focus()
            return
        if not note:
            error.update("the note needs text: what you checked or found")
            return
        verdict = self.query_one("#verdict", Select).value
        self.dismiss(ReviewNoteInput(span[0], span[1], str(verdict), note))

    def action_cancel(self) -> None:
        """Escape: nothing is appended."""
        self.dismiss(None)
