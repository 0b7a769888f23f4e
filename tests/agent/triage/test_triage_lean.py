"""A fault's second symptom on its way: a reading clear of its noise but not yet past the
move threshold "leans", counts as half a symptom and keeps its equipment's first symptom
from being called a drifting transmitter. Checked on two plants named differently."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from agent.triage.features import Series, analyse
from tools.opcua.catalog import Catalog

from .synthetic import Spec, catalog_of, ranked_causes

T0 = datetime(2026, 1, 1, tzinfo=UTC)

#: (browse path of the filter, of the pump beside it, dp tag, flow tag) on two plants.
PLANTS = {
    "isa": (("Plant", "Line_A", "STR_9"), ("Plant", "Line_A", "PU_1"), "STR_9.PDT_9",
            "STR_9.FT_9"),
    "german": (("Werk", "Kuehlkreis", "Filter_3"), ("Werk", "Kuehlkreis", "Pumpe_3"),
               "Filter_3.Differenzdruck", "Filter_3.Durchfluss"),
}


def _catalog(plant: str) -> Catalog:
    filt, pump, dp, flow = PLANTS[plant]
    german = plant == "german"
    tags: dict[tuple[str, ...], list[Spec]] = {
        filt: [(dp.split(".")[1], "Differenzdruck Filter" if german else
                "strainer differential pressure", "mbar", 0.0, 500.0),
               (flow.split(".")[1], "Durchfluss nach Filter" if german else "strainer flow",
                "m3/h", 0.0, 100.0)],
        pump: [("PT", "Druck Druckseite Pumpe" if german else "pump discharge pressure",
                "bar", 0.0, 10.0),
               ("VT", "Schwingung Pumpe" if german else "pump vibration", "mm/s", 0.0, 8.0),
               ("IT", "Motorstrom Pumpe" if german else "pump motor current", "A", 0.0,
                60.0),
               ("JT", "Leistung Motor Pumpe" if german else "pump motor power", "kW", 0.0,
                40.0)],
    }
    return catalog_of(tags)


def _series(base: float, noise: float, rise: float, seed: int) -> Series:
    rng = random.Random(seed)
    return [(T0 + timedelta(seconds=30 * i),
             base + rise * max(0.0, (i - 60) / 60) + rng.gauss(0, noise)) for i in range(120)]


def _ranked(plant: str, rises: dict[str, float]) -> list[tuple[str, str | None]]:
    cat = _catalog(plant)
    feats = {}
    for i, (name, info) in enumerate(cat.tags.items()):
        assert info.eu_low is not None and info.eu_high is not None
        span = info.eu_high - info.eu_low
        f = analyse(name, _series(info.eu_low + span / 2, span * 0.005,
                                  rises.get(name, 0.0) * span, i),
                    info.eu_low, info.eu_high, None)
        assert f is not None
        feats[name] = f
    return ranked_causes(cat, feats)


def test_a_shift_clear_of_the_noise_leans_before_it_moves() -> None:
    creeping = analyse("t", _series(50.0, 0.5, 2.0, 1), 0.0, 100.0, None)
    noise = analyse("t", _series(50.0, 0.5, 0.0, 1), 0.0, 100.0, None)
    moved = analyse("t", _series(50.0, 0.5, -12.0, 1), 0.0, 100.0, None)
    assert creeping is not None and noise is not None and moved is not None
    assert (creeping.direction, creeping.lean) == ("flat", "up")
    assert (noise.direction, noise.lean) == ("flat", "flat")
    assert (moved.direction, moved.lean) == ("down", "down")


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_a_lone_mover_whose_fault_shows_its_second_symptom_is_no_drift(plant: str) -> None:
    _, _, dp, flow = PLANTS[plant]
    # The pressure drop alone: its transmitter drifts.
    assert _ranked(plant, {dp: 0.12})[0] == ("sensor_drift", dp)
    # The flow easing off behind it (2 % of its range, not yet a move): the filter clogs,
    # and its pressure drop transmitter is not suspected at all.
    ranked = _ranked(plant, {dp: 0.12, flow: -0.02})
    assert ranked[0] == ("filter.clogging", None)
    assert ("sensor_drift", dp) not in ranked


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_a_current_falling_with_its_power_is_the_machine_not_its_transmitter(
        plant: str) -> None:
    pump = PLANTS[plant][1][-1]
    current, power = f"{pump}.IT", f"{pump}.JT"
    assert _ranked(plant, {current: -0.15})[0] == ("sensor_drift", current)
    # The power eases off with it (not yet a move): the machine's load fell.
    ranked = _ranked(plant, {current: -0.15, power: -0.025})
    assert ("sensor_drift", current) not in ranked
