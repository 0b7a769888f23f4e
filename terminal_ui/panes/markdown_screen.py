"""A full screen of Markdown to read, scrolled by keyboard: a triage report, an audit
record."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Markdown


class MarkdownScreen(Screen[None]):
    """Read-only Markdown with a title line; Escape or q goes back."""

    DEFAULT_CSS = """
    MarkdownScreen > Label { width: 100%; background: $accent; color: $text; padding: 0 1; }
    MarkdownScreen > VerticalScroll { height: 1fr; }
    MarkdownScreen Markdown { margin: 0 1; }
    """
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("j,down", "scroll(1)", "Down", show=False),
        Binding("k,up", "scroll(-1)", "Up", show=False),
        Binding("space,pagedown", "page(1)", "Page down"),
        Binding("b,pageup", "page(-1)", "Page up"),
        Binding("home", "ends(0)", "Top", show=False),
        Binding("end", "ends(1)", "Bottom", show=False),
    ]

    def __init__(self, title: str, markdown: str) -> None:
        super().__init__()
        self.title_text = title
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        """Title, the scrollable document, the key hints."""
        yield Label(self.title_text)
        with VerticalScroll(id="document"):
            yield Markdown(self.markdown)
        yield Footer()

    def on_mount(self) -> None:
        """Keys scroll the document straight away."""
        self.query_one("#document", VerticalScroll).focus()

    def action_scroll(self, lines: int) -> None:
        """Scroll by ``lines``."""
        self.query_one("#document", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_page(self, pages: int) -> None:
        """Scroll by whole screens."""
        view = self.query_one("#document", VerticalScroll)
        view.scroll_relative(y=pages * max(1, view.size.height - 1), animate=False)

    def action_ends(self, end: int) -> None:
        """Jump to the top (0) or the bottom (1)."""
        view = self.query_one("#document", VerticalScroll)
        if end:
            view.scroll_end(animate=False)
        else:
            view.scroll_home(animate=False)
