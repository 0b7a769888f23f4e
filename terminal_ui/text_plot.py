"""Sparklines and small plots drawn with block characters (no plotting library)."""

from __future__ import annotations

from collections.abc import Sequence

BLOCKS = "▁▂▃▄▅▆▇█"
_FULL = "█"
_EIGHTHS = " ▁▂▃▄▅▆▇"


def resample(values: Sequence[float], width: int) -> list[float]:
    """At most ``width`` values spread over the series (last one kept)."""
    if width <= 0 or not values:
        return []
    if len(values) <= width:
        return list(values)
    step = len(values) / width
    return [values[min(len(values) - 1, int((i + 1) * step) - 1)] for i in range(width)]


def sparkline(values: Sequence[float], width: int, *, low: float | None = None,
              high: float | None = None) -> str:
    """One line of block characters; '' for no values. Scaled to the tag's range
    ``low``..``high`` when given (so noise stays a flat line and only a real swing moves
    it; values outside widen the scale), else lowest value ▁, highest █."""
    points = resample(values, width)
    if not points:
        return ""
    if low is not None and high is not None and high > low:
        low, high = min(low, *points), max(high, *points)
    else:
        low, high = min(points), max(points)
    span = high - low
    if span <= 0:
        return BLOCKS[3] * len(points)
    top = len(BLOCKS) - 1
    return "".join(BLOCKS[round((v - low) / span * top)] for v in points)


def plot_rows(values: Sequence[float], width: int, height: int) -> list[str]:
    """A bar plot ``height`` rows high, top row first, each bar one column; eighth blocks
    give each row eight levels."""
    points = resample(values, width)
    if not points or height <= 0:
        return []
    low, high = min(points), max(points)
    span = high - low
    if span <= 0:
        levels = [height * 4] * len(points)  # a flat line at half height
    else:
        levels = [1 + round((v - low) / span * (height * 8 - 1)) for v in points]
    rows = []
    for row in range(height - 1, -1, -1):
        base = row * 8
        line = []
        for level in levels:
            fill = level - base
            line.append(_FULL if fill >= 8 else _EIGHTHS[fill] if fill > 0 else " ")
        rows.append("".join(line))
    return rows
