"""The trend of one tag: its history over 1 h, 8 h or 24 h with a time axis in the site's
time, its normal range drawn as limit lines, opened from the Plant tab (Enter on a tag)
and from the Alarms tab (t on an alarm)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from agent.errors import PlantAgentError
from agent.service.views import TrendView
from agent.site_time import SiteTime

#: The windows ``w`` cycles through, in hours.
WINDOWS_H = (1, 8, 24)
#: Plot size in character cells.
PLOT_WIDTH, PLOT_HEIGHT = 60, 10
#: Where the tag's data comes from (the agent service's ``trend``).
TrendSource = Callable[[str, float], Awaitable[TrendView]]


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def trend_text(view: TrendView, site: SiteTime, width: int = PLOT_WIDTH,
               height: int = PLOT_HEIGHT) -> Text:
    """The plot: a dot a column (the mean of its samples), the normal range's ends as
    dashed red lines, the value scale on the left, times along the bottom."""
    text = Text()
    unit = f" {view.unit}" if view.unit else ""
    hours = (view.end - view.start).total_seconds() / 3600
    text.append(f"{view.tag}", style="bold")
    text.append(f"  last {hours:g} h  ·  {len(view.values)} samples", style="dim")
    if view.low is not None and view.high is not None:
        text.append(f"  ·  normal range {_fmt(view.low)} to {_fmt(view.high)}{unit}", style="dim")
    text.append("\n\n")
    if not view.values:
        text.append("no samples in this window (the server keeps no history of it, or the "
                    "values were bad)\n", style="yellow")
        return text
    lows = [v for v in (view.low, *view.values) if v is not None]
    highs = [v for v in (view.high, *view.values) if v is not None]
    bottom, top = min(lows), max(highs)
    if top <= bottom:
        top, bottom = bottom + 1.0, bottom - 1.0
    span = top - bottom
    total = (view.end - view.start).total_seconds() or 1.0
    columns: list[list[float]] = [[] for _ in range(width)]
    for moment, value in zip(view.times, view.values, strict=True):
        at = (moment - view.start).total_seconds() / total
        columns[min(width - 1, max(0, int(at * width)))].append(value)
    means = [sum(c) / len(c) if c else None for c in columns]

    def row_of(value: float) -> int:
        return min(height - 1, max(0, round((value - bottom) / span * (height - 1))))

    limit_rows = {row_of(v) for v in (view.low, view.high) if v is not None}
    label_w = max(len(_fmt(top)), len(_fmt(bottom))) + 1
    for row in range(height - 1, -1, -1):
        label = _fmt(top) if row == height - 1 else _fmt(bottom) if row == 0 else ""
        text.append(f"{label:>{label_w}}│", style="dim")
        for mean in means:
            if mean is not None and row_of(mean) == row:
                outside = (view.high is not None and mean > view.high) or (
                    view.low is not None and mean < view.low)
                text.append("●", style="bold red" if outside else "cyan")
            elif row in limit_rows:
                text.append("┄", style="red")
            else:
                text.append(" ")
        text.append("\n")
    text.append(" " * label_w + "└" + "─" * width + "\n", style="dim")
    first, middle = site.show(view.start, seconds=False), site.show(
        view.start + (view.end - view.start) / 2, seconds=False)
    last = site.show(view.end, seconds=False)
    gap = max(1, (width - len(first) - len(middle) - len(last)) // 2)
    text.append(" " * (label_w + 1) + first + " " * gap + middle + " " * gap + last + "\n",
                style="dim")
    text.append(f"\nlast {_fmt(view.values[-1])}{unit} at {site.show(view.times[-1])}; "
                f"min {_fmt(min(view.values))}, max {_fmt(max(view.values))}", style="")
    if view.truncated:
        text.append("\n(the server's point cap cut the window)", style="yellow")
    return text


class TrendScreen(ModalScreen[None]):
    """One tag's trend; ``w`` changes the window, ``r`` reads again, Escape closes."""

    BINDINGS = [Binding("escape", "dismiss", "Close"), Binding("w", "cycle_window", "Window"),
                Binding("r", "reload", "Refresh"), Binding("q", "dismiss", "Close", show=False)]
    DEFAULT_CSS = """
    TrendScreen { align: center middle; }
    TrendScreen > VerticalScroll {
        width: 95%; max-width: 90; height: 90%; border: round $accent; background: $surface;
        padding: 0 1;
    }
    """

    def __init__(self, tag: str, source: TrendSource, site: SiteTime, *,
                 hours: int = WINDOWS_H[0]) -> None:
        super().__init__()
        self.tag = tag
        self.source = source
        self.site = site
        self.hours = hours
        self.view: TrendView | None = None

    def compose(self) -> ComposeResult:
        """The plot, and the key hints."""
        with VerticalScroll(id="trend-body"):
            yield Static(f"reading the history of {self.tag}...", id="trend-text")
        yield Footer()

    def on_mount(self) -> None:
        """Read the first window."""
        self.query_one("#trend-body").focus()
        self.load()

    def action_cycle_window(self) -> None:
        """1 h, 8 h, 24 h."""
        later = [h for h in WINDOWS_H if h > self.hours]
        self.hours = later[0] if later else WINDOWS_H[0]
        self.load()

    def action_reload(self) -> None:
        """Read the window again."""
        self.load()

    @work(exclusive=True, group="trend")
    async def load(self) -> None:
        """Read the window's history in a worker and draw it."""
        body = self.query_one("#trend-text", Static)
        try:
            view = await self.source(self.tag, float(self.hours))
        except PlantAgentError as exc:
            body.update(Text(f"cannot read the history of {self.tag}: {exc.message}\n"
                             f"fix: {exc.fix or '-'}", style="red"))
            return
        self.view = view
        body.update(trend_text(view, self.site))

