"""The historian's agent tool, tag_trend, and the query both it and the CLI use."""

from __future__ import annotations

import asyncio
import difflib
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from agent.errors import ToolError, UnknownNameError
from agent.twin.historian.analysis import TrendSummary, summarize
from agent.twin.historian.store import Historian
from tools.context import ToolContext
from tools.registry import ToolRegistry, tool
from tools.types import TagName

#: Longest window one call may summarize (the retention is longer; the model needs less).
MAX_WINDOW_MINUTES = 31 * 24 * 60.0


def trend_summary(
    historian: Historian,
    tag: str,
    *,
    window_minutes: float,
    now: datetime,
    unit: str | None = None,
    low: float | None = None,
    high: float | None = None,
) -> TrendSummary:
    """Summarize ``tag`` over the last ``window_minutes`` before ``now`` (blocking)."""
    end = now.timestamp()
    start = (now - timedelta(minutes=window_minutes)).timestamp()
    samples = historian.samples(tag, start, end)
    rollups = historian.rollups(tag, start, end)
    if not samples and not rollups and tag not in historian.tag_names():
        known = historian.tag_names()
        suggestions = difflib.get_close_matches(tag, known, n=3, cutoff=0.5)
        raise UnknownNameError(
            f"the historian has no tag named {tag!r}",
            fix=(
                f"did you mean {' or '.join(map(repr, suggestions))}?"
                if suggestions
                else "record it first: `plantagent twin record`"
            ),
            suggestions=suggestions,
        )
    return summarize(tag, samples, rollups, start=start, end=end, unit=unit, low=low, high=high)


class TagTrendArgs(BaseModel):
    """One tag over the last minutes, from the site's historian."""

    model_config = ConfigDict(extra="forbid")

    tag: TagName
    window_minutes: float = Field(
        60.0, gt=0, le=MAX_WINDOW_MINUTES, description="How far back to look, in minutes."
    )


def historian_of(ctx: ToolContext) -> Historian:
    """The historian the composition root put into the context, or a ToolError."""
    historian = getattr(ctx, "historian", None)
    if not isinstance(historian, Historian):
        raise ToolError(
            "the historian is not available in this session",
            fix="use tag_history (the server's own history) instead",
        )
    return historian


@tool()
async def tag_trend(ctx: ToolContext, args: TagTrendArgs) -> TrendSummary:
    """Summarize one tag's recent history from the site historian.

    Returns min, max, mean and last value, the trend (slope per hour by least squares),
    minutes spent above the high or below the low limit, and the gaps in the data (no
    samples, or a lost connection). Use it to see whether a value is drifting and since
    when it is out of limits.
    """
    historian = historian_of(ctx)
    unit = low = high = None
    if ctx.catalog is not None:
        info = ctx.catalog.tag(args.tag)  # UnknownNameError with close matches
        unit, low, high = info.unit, info.eu_low, info.eu_high
    elif (assets := getattr(ctx, "assets", None)) is not None:
        owner = args.tag.split(".", 1)[0]
        eq = await asyncio.to_thread(assets.get, owner)
        tag = eq.tag(args.tag[len(owner) + 1 :]) if eq is not None else None
        if tag is not None:
            unit, low, high = tag.unit, tag.low, tag.high
    return await asyncio.to_thread(
        trend_summary,
        historian,
        args.tag,
        window_minutes=args.window_minutes,
        now=ctx.clock(),
        unit=unit,
        low=low,
        high=high,
    )


def register(registry: ToolRegistry) -> None:
    """Add tag_trend (needs ``ctx.historian``; ``ctx.catalog`` adds units and limits)."""
    registry.register(tag_trend)
