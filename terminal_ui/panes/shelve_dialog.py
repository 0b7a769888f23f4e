"""The shelve dialog: how long (minutes; empty for one-shot) and why. It asks; the
policy decides, and an approver approves where the policy says so."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from terminal_ui.panes.review_dialogs import DIALOG_CSS


@dataclass(frozen=True)
class ShelveInput:
    """What the person asked for: minutes (None = until it returns to normal), reason."""

    minutes: float | None
    reason: str


def parse_minutes(text: str) -> float | str | None:
    """Minutes typed ('30', '1.5'); None when empty (one-shot); an error text otherwise."""
    text = text.strip().lower().removesuffix("min").removesuffix("m").strip()
    if not text:
        return None
    try:
        minutes = float(text)
    except ValueError:
        return "minutes: a number like 30, or empty for one-shot"
    return minutes if minutes > 0 else "minutes: more than zero"


class ShelveScreen(ModalScreen[ShelveInput | None]):
    """Minutes and a reason; Enter in the reason asks, Escape cancels."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, alarm: str, limits: str) -> None:
        super().__init__()
        self.alarm = alarm
        self.limits = limits

    def compose(self) -> ComposeResult:
        """Title, the limits that apply, two inputs and where an error shows."""
        with Vertical():
            yield Label(f"Ask to shelve {self.alarm}", classes="dialog-title")
            yield Label(self.limits, classes="dialog-body")
            yield Input(placeholder="minutes (empty: until it returns to normal)",
                        id="minutes")
            yield Input(placeholder="reason (Enter asks)", id="reason")
            yield Label("", id="error", classes="dialog-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter: check both fields and close with them."""
        error = self.query_one("#error", Label)
        minutes = parse_minutes(self.query_one("#minutes", Input).value)
        if isinstance(minutes, str):
            error.update(minutes)
            self.query_one("#minutes", Input).focus()
            return
        if event.input.id != "reason":
            self.query_one("#reason", Input).focus()
            return
        reason = self.query_one("#reason", Input).value.strip()
        if len(reason) < 3:
            error.update("a shelve needs a reason (Escape cancels)")
            return
        self.dismiss(ShelveInput(minutes, reason))

    def action_cancel(self) -> None:
        """Escape: nothing is asked."""
        self.dismiss(None)
