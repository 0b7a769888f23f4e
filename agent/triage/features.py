"""What each tag's history says: baseline, shift, direction, frozen, when it left its band.

Pure functions over (time, value) series, so the same code serves live triage, the eval
and the tests. The baseline is the older part of the window (before the onset when the
onset is known); "normal band" is the baseline mean plus or minus four standard
deviations, widened to 5 % of the normal range so noise-free tags do not trip it.

``natural_shift`` says how far a tag's shift strays on its own, from the hours before:
slowly wandering noise (a supply voltage, an ambient temperature) moves a ten-minute mean
far more than white noise of the same size does, and an hour's window alone cannot tell
that wander from a real shift.
"""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from agent.triage.models import Direction

Series = list[tuple[datetime, float]]

#: Share of the normal range a tag must move to count as moved.
MOVE_FRACTION = 0.06
BAND_SIGMAS = 4.0
FROZEN_POINTS = 10
#: A tag that has not moved yet "leans" when its shift is at least this many standard
#: errors of the difference of the two means and this share of its normal range: a
#: fault's second symptom on its way (a bearing warming a little behind its vibration).
LEAN_SIGMAS = 4.0
LEAN_FRACTION = 0.005


@dataclass(frozen=True)
class TagFeatures:
    """One tag's behaviour over the window."""

    tag: str
    points: int
    base_mean: float
    base_std: float
    last: float
    recent_mean: float
    recent_std: float
    shift: float  # recent mean - baseline mean, in units of the tag
    shift_span: float  # the shift as a share of the normal range (or of the baseline scale)
    direction: Direction
    left_band_at: datetime | None
    slope_per_s: float
    #: The direction of a shift that is clear of the noise but not yet a move (the
    #: moved direction when it moved, "flat" when it is only noise).
    lean: Direction = "flat"
    #: Highest minus lowest reading over the whole window (0: a flat line).
    window_range: float = 0.0
    #: The largest change between two consecutive readings of the recent part.
    max_step: float = 0.0
    #: The normal range the shares above are of (None: not known).
    low: float | None = None
    high: float | None = None


def _split(series: Series, onset: datetime | None) -> tuple[list[float], list[float]]:
    values = [v for _, v in series]
    if onset is not None:
        before = [v for t, v in series if t < onset]
        if len(before) >= 5:
            recent_n = max(3, len(series) // 6)
            return before, values[-recent_n:]
    n = len(values)
    return values[: max(3, int(n * 0.4))], values[-max(3, n // 6):]


def slope(series: Series) -> float:
    """Least-squares slope in units per second (0 for fewer than 3 points)."""
    if len(series) < 3:
        return 0.0
    t0 = series[0][0]
    xs = [(t - t0).total_seconds() for t, _ in series]
    ys = [v for _, v in series]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    if den <= 0.0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den


def analyse(
    tag: str, series: Series, low: float | None, high: float | None, onset: datetime | None
) -> TagFeatures | None:
    """Features of one tag, None with fewer than 8 points."""
    if len(series) < 8:
        return None
    base, recent = _split(series, onset)
    base_mean, base_std = statistics.fmean(base), statistics.pstdev(base)
    recent_mean, recent_std = statistics.fmean(recent), statistics.pstdev(recent)
    scale = (high - low) if low is not None and high is not None and high > low else None
    scale = scale or max(abs(base_mean) * 0.2, 1e-6)
    shift = recent_mean - base_mean
    shift_span = shift / scale
    band = max(BAND_SIGMAS * base_std, 0.05 * scale)
    moved = abs(shift_span) >= MOVE_FRACTION and abs(shift) > band * 0.5
    direction: Direction = ("up" if shift > 0 else "down") if moved else "flat"
    # Frozen: the last FROZEN_POINTS samples identical while the baseline had noise.
    last = [v for _, v in series[-FROZEN_POINTS:]]
    if base_std > 1e-9 and max(last) - min(last) <= 1e-12:
        direction = "frozen"
    left = None
    for (t, v), (_, nxt) in itertools.pairwise(series):
        if onset is not None and t < onset - timedelta(seconds=1):
            continue
        if abs(v - base_mean) > band and abs(nxt - base_mean) > band:
            left = t
            break
    tail = series[-max(8, len(series) // 4):]
    return TagFeatures(
        tag, len(series), base_mean, base_std, series[-1][1], recent_mean, recent_std,
        shift, shift_span, direction, left, slope(tail),
        lean=_lean(direction, shift, shift_span, base_std, len(base), len(recent)),
        window_range=max(v for _, v in series) - min(v for _, v in series),
        max_step=max(abs(b - a) for (_, a), (_, b) in itertools.pairwise(
            series[-max(3, len(series) // 6):])),
        low=low, high=high,
    )


def _lean(direction: Direction, shift: float, shift_span: float, base_std: float,
          n_base: int, n_recent: int) -> Direction:
    """A move's direction, or the direction of a shift too small to be a move but clear
    of the noise (LEAN_SIGMAS standard errors of the two means and LEAN_FRACTION of the
    range)."""
    if direction != "flat":
        return direction
    standard_error = base_std * math.sqrt(1.0 / n_base + 1.0 / n_recent)
    if abs(shift_span) < LEAN_FRACTION or abs(shift) < LEAN_SIGMAS * standard_error:
        return "flat"
    return "up" if shift > 0 else "down"


#: Fewest positions ``natural_shift`` needs to say anything.
MIN_POSITIONS = 6


def _mean_between(series: Series, start: datetime, end: datetime) -> float | None:
    values = [v for t, v in series if start <= t < end]
    return statistics.fmean(values) if len(values) >= 3 else None


def natural_shift(series: Series, window: timedelta, step: timedelta) -> float | None:
    """The largest shift analyse() would have seen in healthy history: the window slid
    over ``series`` every ``step``, at each position the mean of its last sixth against
    the mean of its first 40 % (as analyse splits a window). None with fewer than
    MIN_POSITIONS positions (too little history)."""
    if not series or window <= timedelta(0) or step <= timedelta(0):
        return None
    shifts = []
    end = series[0][0] + window
    while end <= series[-1][0] + step / 2:
        base = _mean_between(series, end - window, end - window * 0.6)
        recent = _mean_between(series, end - window / 6, end)
        if base is not None and recent is not None:
            shifts.append(abs(recent - base))
        end += step
    return max(shifts) if len(shifts) >= MIN_POSITIONS else None


def time_to_limit(
    features: TagFeatures, low: float | None, high: float | None
) -> tuple[float, str] | None:
    """Seconds until the trend reaches a limit and which one, or None when it does not
    head for one (or already crossed it: that is the alarm's job)."""
    s, v = features.slope_per_s, features.last
    if high is not None and s > 0 and v < high:
        return (high - v) / s, "High"
    if low is not None and s < 0 and v > low:
        return (v - low) / -s, "Low"
    return None


def finite(x: float) -> float:
    """x, or 0 for NaN/inf (JSON has no NaN)."""
    return x if math.isfinite(x) else 0.0
