"""The help screen (F1 or ?): what each screen is for and every key."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Markdown

HELP_TEXT = """\
# plantagent: keys

| key | does |
|---|---|
| F1 or ? | this help (Escape closes it) |
| F2 ... F7 | Ask, Plant, Alarms, Approvals, Audit, Handover |
| Tab / Shift+Tab | move between fields and lists |
| Ctrl+Q | quit |

## Ask
Type a question and press **Enter**. The answer streams in as the model writes it; the
line above the input says what the agent is doing. **Escape** cancels a running question.
Cited evidence is listed under the answer: move with the arrow keys, **Enter** shows the
reading, its recent history and the document passage.

## Plant
The equipment tree with live values, units and normal ranges. Red: outside its limits;
yellow: uncertain quality; dim STALE: not refreshed (the server is away or the value is
old); BAD: no value. Each value starts with its NAMUR NE 107 symbol: **F** Failure,
**C** Function check, **S** Out of specification, **M** Maintenance required, a tick for
OK. Arrow keys move, **Enter** or Space opens and closes an equipment, **r** refreshes now.
**Enter** on a tag opens its trend (1 h, 8 h, 24 h with **w**, the normal range drawn).
**Ctrl+P** finds a tag or equipment by name and jumps to it, or a tab by what it does.

## Alarms
The alarms the plant holds, by the site's priority (colour), state (UNACK, acked,
shelved with its time left, cleared) and since when, over the triage reports. **s**
sorts, **f** filters; **a** acknowledges (with an optional comment), **C** confirms,
**c** comments, **h** asks to shelve (minutes, or empty for until it returns to normal,
and a reason: the policy decides and an approver may be needed), **u** asks to
unshelve. Only the actions your role may take are offered. **o** or Enter opens a report,
**t** the trend of the alarm's tag.

## Approvals, Audit, Handover
Pending proposals to approve or deny (the policy decides which role may); the audit
trail with filters, its verification status and review notes; the shift handover
summary. Each screen lists its keys at the bottom.
"""


class HelpScreen(ModalScreen[None]):
    """Keys and screens, scrollable; any of Escape, F1, ? or q closes it."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("f1", "dismiss", "Close", show=False),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%; border: round $accent; background: $surface;
    }
    """

    def compose(self) -> ComposeResult:
        """The help text in a scrolling frame, and the key hints."""
        with VerticalScroll(id="help-body"):
            yield Markdown(HELP_TEXT)
        yield Footer()

    def on_mount(self) -> None:
        """Focus the text so the arrow keys scroll it."""
        self.query_one("#help-body").focus()
