"""The evidence behind one citation: the readings, a plot of recent values, the quoted
document passage."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from agent.service.views import CitationView
from terminal_ui.text_plot import plot_rows

#: Size of the history plot in character cells.
PLOT_WIDTH, PLOT_HEIGHT = 48, 5


def evidence_text(citation: CitationView) -> Text:
    """Everything of one citation as text: title, lines, plot and passage."""
    text = Text()
    text.append(f"{citation.id}  ", style="bold reverse")
    text.append(citation.title + "\n\n", style="bold")
    for line in citation.lines:
        text.append(line + "\n")
    if citation.series:
        low, high = min(citation.series), max(citation.series)
        text.append(f"\nrecent values of {citation.series_tag} "
                    f"({len(citation.series)} points, {low:.4g} .. {high:.4g})\n", style="bold")
        for row in plot_rows(citation.series, PLOT_WIDTH, PLOT_HEIGHT):
            text.append("│" + row + "\n", style="cyan")
        text.append("└" + "─" * min(PLOT_WIDTH, len(citation.series)) + "\n", style="dim")
    if citation.passage:
        text.append("\ndocument passage\n", style="bold")
        text.append(citation.passage + "\n", style="italic")
    return text


class EvidenceScreen(ModalScreen[None]):
    """One citation's evidence in a scrolling frame; Escape closes it."""

    BINDINGS = [Binding("escape", "dismiss", "Close"), Binding("q", "dismiss", "Close",
                                                               show=False)]
    DEFAULT_CSS = """
    EvidenceScreen { align: center middle; }
    EvidenceScreen > VerticalScroll {
        width: 95%; max-width: 110; height: 90%; border: round $accent; background: $surface;
        padding: 0 1;
    }
    """

    def __init__(self, citation: CitationView) -> None:
        super().__init__()
        self.citation = citation

    def compose(self) -> ComposeResult:
        """The evidence, and the key hints."""
        with VerticalScroll(id="evidence-body"):
            yield Static(evidence_text(self.citation), id="evidence-text")
        yield Footer()

    def on_mount(self) -> None:
        """Focus the frame so the arrow keys scroll it."""
        self.query_one("#evidence-body").focus()
