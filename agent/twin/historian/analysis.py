"""Trend summaries of one tag over a window: aggregates, slope, time outside limits, gaps.

Deterministic analysis the model reads instead of raw samples. Raw samples and 1-minute
rollups are merged into one series of weighted points (a rollup weighs its sample count
and sits at its minute's middle), so a window that reaches back into downsampled history
still gets one answer.

Definitions:
- slope: weighted least-squares line through (time, value), in units per hour;
- time above/below limit: each point's value is held until the next point (sample and
  hold), except across a gap;
- gap: no data for longer than ``max(10 x the median spacing, 10 s)``, a bad-quality
  sample (lost connection) until the next good one, or no data at the window's edges.
"""

from __future__ import annotations

import bisect
import itertools
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from agent.twin.historian.store import GOOD, Rollup, Sample

MIN_GAP_S = 10.0
ROLLUP_GAP_S = 150.0
GAP_FACTOR = 10.0


@dataclass(frozen=True)
class Point:
    """One value of the series; ``n`` samples behind it, their ``vmin``/``vmax``."""

    t: float
    value: float
    n: int
    vmin: float
    vmax: float
    rolled: bool = False


class Gap(BaseModel):
    """A stretch of the window without data."""

    start: datetime
    end: datetime
    minutes: float


class TrendSummary(BaseModel):
    """A tag over a window: aggregates, trend, time outside limits, gaps."""

    tag: str
    unit: str | None = None
    start: datetime
    end: datetime
    resolution: str = Field(description="'raw', '1min' (downsampled) or 'mixed'.")
    count: int = Field(description="Good samples in the window (rolled-up ones included).")
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    last: float | None = None
    last_time: datetime | None = None
    slope_per_hour: float | None = Field(None, description="Least-squares trend in units per hour.")
    low: float | None = Field(None, description="Low limit used (EURange low).")
    high: float | None = Field(None, description="High limit used (EURange high).")
    minutes_above_high: float = 0.0
    minutes_below_low: float = 0.0
    bad_count: int = Field(0, description="Bad or uncertain samples (not in the aggregates).")
    gaps: list[Gap] = Field(default_factory=list, description="Longest gaps first, at most 5.")
    gap_count: int = 0
    gap_minutes: float = 0.0


def merge_points(samples: list[Sample], rollups: list[Rollup], start: float) -> list[Point]:
    """Good raw samples and rollups as one series ordered by time.

    A rollup covering a minute that also has raw samples (a partly downsampled minute)
    is kept only for the part before the first raw sample.
    """
    first_raw = min((s.t for s in samples if s.quality == GOOD), default=float("inf"))
    points = [
        Point(max(r.t + 30.0, start), r.vmean, r.n, r.vmin, r.vmax, rolled=True)
        for r in rollups
        if r.t + 60.0 <= first_raw
    ]
    points.extend(
        Point(s.t, s.value, 1, s.value, s.value)
        for s in samples
        if s.quality == GOOD and s.value is not None
    )
    points.sort(key=lambda p: p.t)
    return points


def _slope_per_hour(points: list[Point]) -> float | None:
    if len(points) < 2:
        return None
    weight = sum(p.n for p in points)
    t0 = points[0].t
    xs = [(p.t - t0) / 3600.0 for p in points]
    mx = sum(x * p.n for x, p in zip(xs, points, strict=True)) / weight
    my = sum(p.value * p.n for p in points) / weight
    sxx = sum(p.n * (x - mx) ** 2 for x, p in zip(xs, points, strict=True))
    if sxx <= 0.0:
        return None
    sxy = sum(p.n * (x - mx) * (p.value - my) for x, p in zip(xs, points, strict=True))
    return sxy / sxx


def gap_threshold(points: list[Point]) -> float:
    """Seconds without raw data that count as a gap for this series."""
    spacing = [b.t - a.t for a, b in itertools.pairwise(points) if not (a.rolled or b.rolled)]
    median = statistics.median(spacing) if spacing else 0.0
    return max(GAP_FACTOR * median, MIN_GAP_S)


def _limit(threshold: float, *points: Point) -> float:
    # Rollups are a minute apart by construction: only a missing minute is a gap there.
    return max(threshold, ROLLUP_GAP_S) if any(p.rolled for p in points) else threshold


def _gaps(
    points: list[Point], bad: list[float], start: float, end: float, threshold: float
) -> list[tuple[float, float]]:
    if not points:
        return [(start, end)]
    out: list[tuple[float, float]] = []
    if points[0].t - start > _limit(threshold, points[0]):
        out.append((start, points[0].t))
    for a, b in itertools.pairwise(points):
        if b.t - a.t > _limit(threshold, a, b):
            out.append((a.t, b.t))
    if end - points[-1].t > _limit(threshold, points[-1]):
        out.append((points[-1].t, end))
    # A bad sample (lost connection) opens a gap until the next good value.
    times = [p.t for p in points]
    for t in bad:
        i = bisect.bisect_right(times, t)
        out.append((t, times[i] if i < len(times) else end))
    out.sort()
    merged: list[tuple[float, float]] = []
    for lo, hi in out:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def _time_outside(
    points: list[Point], end: float, low: float | None, high: float | None, threshold: float
) -> tuple[float, float]:
    above = below = 0.0
    for i, p in enumerate(points):
        nxt = points[i + 1].t if i + 1 < len(points) else end
        span, limit = nxt - p.t, _limit(threshold, p)
        if span > limit:  # do not hold a value across a gap
            span = 0.0 if i + 1 < len(points) else min(span, limit)
        if high is not None and p.value > high:
            above += span
        if low is not None and p.value < low:
            below += span
    return above / 60.0, below / 60.0


def _dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def summarize(
    tag: str,
    samples: list[Sample],
    rollups: list[Rollup],
    *,
    start: float,
    end: float,
    unit: str | None = None,
    low: float | None = None,
    high: float | None = None,
) -> TrendSummary:
    """The trend summary of one tag between ``start`` and ``end`` (Unix seconds)."""
    points = merge_points(samples, rollups, start)
    bad = [s.t for s in samples if s.quality != GOOD or s.value is None]
    threshold = gap_threshold(points)
    gaps = _gaps(points, bad, start, end, threshold)
    above, below = _time_outside(points, end, low, high, threshold)
    has_raw = any(s.quality == GOOD and s.value is not None for s in samples)
    has_rollups = len(points) > sum(1 for s in samples if s.quality == GOOD and s.value is not None)
    resolution = "mixed" if has_raw and has_rollups else "1min" if has_rollups else "raw"
    count = sum(p.n for p in points)
    longest = sorted(gaps, key=lambda g: g[1] - g[0], reverse=True)[:5]
    return TrendSummary(
        tag=tag,
        unit=unit,
        start=_dt(start),
        end=_dt(end),
        resolution=resolution,
        count=count,
        min=_r(min((p.vmin for p in points), default=None)),
        max=_r(max((p.vmax for p in points), default=None)),
        mean=_r(sum(p.value * p.n for p in points) / count) if count else None,
        last=_r(points[-1].value) if points else None,
        last_time=_dt(points[-1].t) if points else None,
        slope_per_hour=_r(_slope_per_hour(points)),
        low=low,
        high=high,
        minutes_above_high=round(above, 2),
        minutes_below_low=round(below, 2),
        bad_count=len(bad),
        gaps=[Gap(start=_dt(a), end=_dt(b), minutes=round((b - a) / 60.0, 2)) for a, b in longest],
        gap_count=len(gaps),
        gap_minutes=round(sum(b - a for a, b in gaps) / 60.0, 2),
    )


def _r(value: float | None) -> float | None:
    """Rounded to 6 significant digits: enough for a reading, fewer prompt tokens."""
    return None if value is None else float(f"{value:.6g}")
