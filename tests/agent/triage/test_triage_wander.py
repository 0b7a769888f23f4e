"""The deviation rule against slowly wandering noise: a healthy tag whose noise wanders
(an Ornstein-Uhlenbeck process, as a supply voltage or an ambient temperature does) makes
no deviation once its shift is weighed against the largest shift the same rule saw in the
hours before, while a real drift of the same tags still does. Two differently scaled tags, many
seeds, no plant in particular."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from agent.triage.features import Series, analyse, natural_shift
from agent.triage.watcher import WatchRules

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
PERIOD_S = 10.0
POINTS = 360  # one hour of history, as the watcher reads it
OLDER = 6 * 360  # the six hours before it, for the wander


def _wander(rng: random.Random, mean: float, sigma: float, tau_s: float,
            noise: float = 0.0) -> list[float]:
    """Seven hours: the six before the window, then the window's hour."""
    decay = math.exp(-PERIOD_S / tau_s)
    spread = sigma * math.sqrt(1 - decay * decay)
    value, out = mean + rng.gauss(0, sigma), []
    for _ in range(OLDER + POINTS):
        value = mean + (value - mean) * decay + spread * rng.gauss(0, 1)
        out.append(value + rng.gauss(0, noise))
    return out


def _series(values: list[float]) -> Series:
    return [(START + timedelta(seconds=i * PERIOD_S), v) for i, v in enumerate(values)]


def _deviates(values: list[float], low: float, high: float, rules: WatchRules,
              *, widened: bool = True) -> bool:
    """The watcher's deviation rule on one tag (with or without the wander check)."""
    older, window = _series(values[:OLDER]), _series(values[OLDER:])
    f = analyse("X.Tag", window, low, high, None)
    assert f is not None
    moved = f.direction in ("up", "down") and abs(f.shift_span) >= rules.deviation
    if not moved or not widened:
        return moved
    natural = natural_shift(older, rules.lookback, rules.wander_step)
    assert natural is not None
    return abs(f.shift) >= rules.deviation_margin * natural


#: (low, high, mean, wander sigma, wander tau s): a 400 V supply on 380..420 V and a
#: 6 bar header on 0..10 bar, both wandering on the scale of their ranges' tenth.
TAGS = [pytest.param(380.0, 420.0, 400.0, 2.0, 600.0, id="voltage"),
        pytest.param(0.0, 10.0, 6.0, 0.5, 900.0, id="pressure")]


@pytest.mark.parametrize(("low", "high", "mean", "sigma", "tau"), TAGS)
def test_wandering_noise_is_no_deviation_but_was_before(
    low: float, high: float, mean: float, sigma: float, tau: float
) -> None:
    rules = WatchRules()
    seeds = range(300)
    runs = [_wander(random.Random(seed), mean, sigma, tau, noise=sigma * 0.1)
            for seed in seeds]
    naive = sum(_deviates(v, low, high, rules, widened=False) for v in runs)
    widened = sum(_deviates(v, low, high, rules) for v in runs)
    assert naive >= 3, "the wander should fool the plain shift rule (the nuisance)"
    assert widened == 0


@pytest.mark.parametrize(("low", "high", "mean", "sigma", "tau"), TAGS)
def test_a_real_drift_on_the_same_tags_still_deviates(
    low: float, high: float, mean: float, sigma: float, tau: float
) -> None:
    rules = WatchRules()
    span = high - low
    found = 0
    for seed in range(20):
        values = _wander(random.Random(seed), mean, sigma * 0.3, tau, noise=sigma * 0.2)
        # A transmitter drifting 25 % of its range over the last 20 minutes.
        ramp = 120
        for i in range(ramp):
            values[OLDER + POINTS - ramp + i] += 0.25 * span * (i + 1) / ramp
        found += _deviates(values, low, high, rules)
    assert found == 20


def test_the_natural_shift_needs_enough_history() -> None:
    rng = random.Random(5)
    white = _series([rng.gauss(0, 1) for _ in range(OLDER)])
    natural = natural_shift(white, timedelta(hours=1), timedelta(minutes=5))
    assert natural is not None and natural < 0.6  # white noise: ten-minute means hold still
    assert natural_shift(white[:400], timedelta(hours=1), timedelta(minutes=5)) is None
    assert natural_shift([], timedelta(hours=1), timedelta(minutes=5)) is None
