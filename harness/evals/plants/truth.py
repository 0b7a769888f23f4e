"""Facts resolved against the live test plant when an answer is checked.

A question takes a while to answer and the plant keeps moving, so a fact is a range: a
live value is any value the tag was published with while the question was being
answered; a history aggregate is computed for the window ending at the start and at the
end of the question. A trend is where the value is now against where it was at the start of
the window (steady when the change is within three noise widths or 2 % of the range).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import fmean

from agent.errors import UsageError
from plant.kit.server import KitPlantServer
from plant.kit.spec import TagDef


@dataclass(frozen=True)
class Span:
    """The values a fact may have: [low, high]."""

    low: float
    high: float

    def widen(self, tol: float) -> Span:
        """The span with ``tol`` on each side."""
        return Span(self.low - tol, self.high + tol)

    def __str__(self) -> str:
        return f"{self.low:.4g}" if self.low == self.high else f"{self.low:.4g}..{self.high:.4g}"


def _window(points: list[tuple[datetime, float]], end: datetime, minutes: float
            ) -> list[float]:  # fmt: skip
    start = end - timedelta(minutes=minutes)
    return [v for t, v in points if start <= t <= end]


def _at(points: list[tuple[datetime, float]], when: datetime) -> list[float]:
    """The stored point nearest ``when`` and its neighbours."""
    if not points:
        return []
    i = min(range(len(points)), key=lambda k: abs((points[k][0] - when).total_seconds()))
    return [v for _, v in points[max(0, i - 1): i + 2]]


_AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "hist_max": max, "hist_min": min, "hist_mean": fmean}


def resolve(ref: str, plant: KitPlantServer, t0: datetime, t1: datetime) -> Span:
    """The span of a fact reference (see :class:`..suite.Fact`)."""
    kind, _, rest = ref.partition(":")
    key, _, arg = rest.partition(":")
    tag = plant.plant.tag(key)
    if kind == "live":
        values = plant.published(key, t0, t1)
        if not values:
            raise UsageError(f"no published value of {key}", fix="let the plant run first")
        return Span(min(values), max(values))
    if kind in ("limit_high", "limit_low"):
        value = tag.high if kind == "limit_high" else tag.low
        return Span(value, value)
    minutes = float(arg)
    points = plant.history(key)
    results: list[float] = []
    for end in (t0, t1):
        if kind == "hist_at":
            results += _at(points, end - timedelta(minutes=minutes))
            continue
        window = _window(points, end, minutes)
        if not window:
            continue
        if kind not in _AGGREGATES:
            raise UsageError(f"unknown fact reference {ref!r}",
                             fix="use live, limit_high, limit_low, hist_max, hist_min, "
                             "hist_mean or hist_at")
        results.append(_AGGREGATES[kind](window))
    if not results:
        raise UsageError(f"no history of {key} for {ref}", fix="pre-fill more history")
    return Span(min(results), max(results))


def direction(tag: TagDef, plant: KitPlantServer, when: datetime, minutes: float) -> str:
    """"up", "down" or "steady": where ``tag`` is at ``when`` (its last three stored
    points) against where it was at the start of the window (its first fifth)."""
    values = _window(plant.history(tag.key), when, minutes)
    if len(values) < 5:
        return "steady"
    fifth = max(1, len(values) // 5)
    change = fmean(values[-3:]) - fmean(values[:fifth])
    if abs(change) <= max(3.0 * tag.noise, 0.02 * tag.span):
        return "steady"
    return "up" if change > 0 else "down"
