"""The flat-line and out-of-range instrument rules from the recorded history and the tag
semantics, on two plants that name everything differently (ISA-5.1 loop tags in English,
a German hierarchy): a transmitter that lost its signal or reads where nothing can be is
named as such, a process that only moves is not."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from agent.triage.features import Series, analyse
from tools.opcua.catalog import Catalog

from .synthetic import catalog_of, ranked_causes

T0 = datetime(2026, 1, 1, tzinfo=UTC)
N = 120

#: Per plant: the tank's path and its (browse name, description, unit, low, high) tags:
#: level, outlet flow, inlet flow, temperature.
PLANTS = {
    "isa": (("Site", "Area_4", "TK_401"), [
        ("LT_401", "clear water tank level", "%", 40.0, 90.0),
        ("FT_410", "tank outlet flow", "m³/h", 0.0, 400.0),
        ("FT_402", "tank inlet flow", "m³/h", 0.0, 400.0),
        ("TT_403", "tank water temperature", "°C", 5.0, 25.0)]),
    "german": (("Werk", "Wasser", "Behaelter_2"), [
        ("Fuellstand", "Füllstand Behälter", "%", 40.0, 90.0),
        ("Abfluss", "Durchfluss Ablauf Behälter", "m³/h", 0.0, 400.0),
        ("Zulauf", "Durchfluss Zulauf Behälter", "m³/h", 0.0, 400.0),
        ("Temperatur", "Wassertemperatur Behälter", "°C", 5.0, 25.0)]),
}


def _catalog(plant: str) -> Catalog:
    path, specs = PLANTS[plant]
    return catalog_of({path: specs})


def _noisy(mid: float, noise: float, seed: int, ramp: float = 0.0) -> list[float]:
    rng = random.Random(seed)
    return [mid + ramp * max(0.0, (i - 60) / 60) + rng.gauss(0, noise) for i in range(N)]


def _causes(plant: str, shapes: dict[int, list[float]]) -> list[tuple[str, str | None]]:
    """Ranked (cause, tag) with the plant's i-th tag following ``shapes[i]`` (noise
    around mid-range otherwise)."""
    cat = _catalog(plant)
    feats = {}
    for i, (name, info) in enumerate(cat.tags.items()):
        assert info.eu_low is not None and info.eu_high is not None
        span = info.eu_high - info.eu_low
        values = shapes.get(i) or _noisy(info.eu_low + span / 2, span * 0.005, i)
        series: Series = [(T0 + timedelta(seconds=30 * k), v) for k, v in enumerate(values)]
        f = analyse(name, series, info.eu_low, info.eu_high, None)
        assert f is not None
        feats[name] = f
    return ranked_causes(cat, feats)


def _tag(plant: str, i: int) -> str:
    path, specs = PLANTS[plant]
    return f"{path[-1]}.{specs[i][0]}"


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_a_reading_that_never_changes_while_its_tank_moves_is_flat_lined(plant: str) -> None:
    # More water drawn off, the level falls: the process moves, the temperature not at all.
    moving = {1: _noisy(200.0, 2.0, 1, ramp=80.0), 0: _noisy(65.0, 0.2, 4, ramp=-10.0)}
    ranked = _causes(plant, {3: [15.0] * N, **moving})
    assert ("sensor_flat_line", _tag(plant, 3)) in ranked
    # The process fault is still found beside it, and only the flat reading is blamed.
    assert [t for c, t in ranked if c.startswith("sensor_")] == [_tag(plant, 3)]
    assert any(not c.startswith("sensor_") for c, _ in ranked)
    # The same flat temperature with nothing else moving: no evidence of a lost signal.
    assert all(c != "sensor_flat_line" for c, _ in _causes(plant, {3: [15.0] * N}))


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_a_reading_where_nothing_can_be_is_out_of_range(plant: str) -> None:
    # A level transmitter's loop fails low: the reading drops to -25 % at once.
    failed = [*_noisy(65.0, 0.2, 2)[:100], *([-25.0] * 20)]
    assert _causes(plant, {0: failed})[0] == ("sensor_out_of_range", _tag(plant, 0))
    # Failing high: the level reads 130 % at once.
    high = [*_noisy(65.0, 0.2, 3)[:100], *([130.0] * 20)]
    assert _causes(plant, {0: high})[0] == ("sensor_out_of_range", _tag(plant, 0))
    # A tank filling to the brim, and a flow jumping far past its range (a burst, a
    # bypass opened), are the process: no failed loop.
    brim = _noisy(65.0, 0.2, 5, ramp=34.0)
    burst = [*_noisy(200.0, 2.0, 6)[:110], *([1250.0] * 10)]
    for shapes in ({0: brim}, {2: burst}):
        assert all(c != "sensor_out_of_range" for c, _ in _causes(plant, shapes))
