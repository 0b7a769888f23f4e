"""How one tag or equipment reads in the plant tree: value, unit, limits, sparkline, flags."""

from __future__ import annotations

from rich.text import Text

from agent.service.views import EquipmentView, PlantSnapshot, TagView
from terminal_ui.text_plot import sparkline

SPARK_WIDTH = 10
#: Width of the variable name column (the longest demo plant name has 25 characters).
VARIABLE_CHARS = 22
_FLAG = {"stale": ("STALE", "dim italic"), "bad": ("BAD", "bold magenta"),
         "uncertain": ("UNCERTAIN", "yellow")}
#: NAMUR NE 107 symbols: Failure, Function check, Out of specification, Maintenance
#: required, OK; in the colours NE 107 gives them (red, orange, yellow, blue, green).
NE107_SYMBOL: dict[str, tuple[str, str]] = {
    "failure": ("F", "bold white on red"),
    "function_check": ("C", "bold black on dark_orange"),
    "out_of_specification": ("S", "bold black on yellow"),
    "maintenance_required": ("M", "bold white on blue"),
    "ok": ("✓", "green"),
}


def format_value(value: object) -> str:
    """At most 4 significant digits for numbers; text as it is; '—' for none."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:.4g}"


def tag_label(tag: TagView) -> Text:
    """'✓ FlowRate   42.37 m³/h  20..60  ▃▄▅▆  HIGH' with the NE 107 symbol first, limit
    and quality colours."""
    value_style = "bold red" if tag.limit != "ok" else ""
    if tag.quality == "stale":
        value_style = "dim"
    elif tag.quality == "bad":
        value_style = "magenta"
    limits = f"{format_value(tag.low)}..{format_value(tag.high)}" \
        if tag.low is not None and tag.high is not None else ""
    text = Text(no_wrap=True, overflow="ellipsis")
    symbol, symbol_style = NE107_SYMBOL[tag.ne107]
    text.append(symbol, style=symbol_style)
    text.append(" ")
    text.append(f"{tag.variable[:VARIABLE_CHARS]:<{VARIABLE_CHARS}} ")
    text.append(f"{format_value(tag.value):>8}", style=value_style)
    text.append(f" {(tag.unit or '')[:6]:<6} ")
    text.append(f"{limits:<12}", style="dim")
    line = sparkline(tag.history, SPARK_WIDTH, low=tag.low, high=tag.high)
    text.append(f"{line:<{SPARK_WIDTH}} ", style="cyan")
    if tag.limit != "ok":
        text.append(tag.limit.upper(), style="bold white on red")
        text.append(" ")
    if tag.quality in _FLAG:
        word, style = _FLAG[tag.quality]
        text.append(word, style=style)
    return text


def equipment_label(equipment: EquipmentView) -> Text:
    """'P-101   2 alerts  Centrifugal product pump' (red when a tag needs attention)."""
    alerts = equipment.alerts()
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{equipment.name:<7} ", style="bold")
    if alerts:
        text.append(f"{alerts} alert{'s' if alerts > 1 else ' '}", style="bold red")
    else:
        text.append(f"{'ok':<8}", style="green")
    if equipment.description:
        text.append("  " + equipment.description, style="dim")
    return text


def summary_line(snapshot: PlantSnapshot) -> Text:
    """'7 equipment · 47 tags · 2 outside limits · 12:03:04 CET' (the site's time) and
    the server state."""
    tags = [t for e in snapshot.equipment for t in e.tags]
    outside = sum(1 for t in tags if t.limit != "ok")
    stale = sum(1 for t in tags if t.quality in ("stale", "bad"))
    text = Text(no_wrap=True, overflow="ellipsis")
    if snapshot.connection != "connected":  # first, so a narrow screen still shows it
        text.append(f"OPC UA {snapshot.connection}: showing last values",
                    style="bold white on red")
        text.append(" · ")
    text.append(f"{len(snapshot.equipment)} equipment · {len(tags)} tags · ")
    text.append(f"{outside} outside limits", style="bold red" if outside else "green")
    if stale:
        text.append(f" · {stale} stale/bad", style="yellow")
    text.append(f" · {snapshot.taken_at:%H:%M:%S} {snapshot.taken_at.strftime('%Z') or ''}"
                .rstrip())
    return text
