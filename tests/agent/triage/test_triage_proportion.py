"""A counter-symptom weighs by how far it moved against the cause's main symptom, a load
that rose explains a chiller's higher head pressure and power, and a reading that moved
far beyond its peers (each in its own units) is not accounted for by their small moves.
Checked on two plants named differently (ISA loop tags in English, a German hierarchy).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from agent.triage.features import Series, analyse
from agent.triage.models import Candidate
from tools.opcua.catalog import Catalog

from .synthetic import Spec, catalog_of, ranked_candidates

T0 = datetime(2026, 1, 1, tzinfo=UTC)

#: Per plant: (browse path of the chiller, of the cooling tower) and the tag names by
#: role: return water, load, power, current, condenser pressure, tower fan speed, tower
#: leaving water, tower entering water, outdoor wet bulb, tower fan vibration.
PLANTS: dict[str, tuple[tuple[str, ...], tuple[str, ...], dict[str, str]]] = {
    "isa": (("Site", "CUP", "CH_7"), ("Site", "CUP", "CT_7"), {
        "return": "CH_7.TT_701", "load": "CH_7.JQI_702", "power": "CH_7.JI_703",
        "current": "CH_7.II_704", "cond": "CH_7.PT_705", "supply": "CH_7.TT_706",
        "evap": "CH_7.PT_707",
        "speed": "CT_7.SI_711", "leaving": "CT_7.TT_712", "entering": "CT_7.TT_713",
        "wetbulb": "CT_7.TT_714", "vib": "CT_7.VT_715"}),
    "german": (("Werk", "Kaelte", "Kaltwassersatz_2"), ("Werk", "Kaelte", "Kuehlturm_2"), {
        "return": "Kaltwassersatz_2.Ruecklauf", "load": "Kaltwassersatz_2.Auslastung",
        "power": "Kaltwassersatz_2.Leistung", "current": "Kaltwassersatz_2.Strom",
        "cond": "Kaltwassersatz_2.Verfluessigerdruck",
        "supply": "Kaltwassersatz_2.Vorlauf", "evap": "Kaltwassersatz_2.Verdampferdruck",
        "speed": "Kuehlturm_2.Drehzahl", "leaving": "Kuehlturm_2.Austritt",
        "entering": "Kuehlturm_2.Eintritt", "wetbulb": "Kuehlturm_2.Feuchtkugel",
        "vib": "Kuehlturm_2.Schwingung"}),
}

#: The words of each role: (English description, German description, unit, low, high).
WORDS: dict[str, tuple[str, str, str, float, float]] = {
    "return": ("chiller return water temperature", "Kaltwasser Ruecklauftemperatur",
               "degC", 9.0, 15.0),
    "supply": ("chiller supply water temperature", "Kaltwasser Vorlauftemperatur", "degC",
               5.0, 7.5),
    "load": ("chiller capacity", "Auslastung Kaltwassersatz", "%", 0.0, 100.0),
    "power": ("chiller electrical power", "elektrische Leistung Kaltwassersatz", "kW",
              30.0, 150.0),
    "current": ("chiller motor current", "Motorstrom Kaltwassersatz", "A", 50.0, 260.0),
    "cond": ("chiller condenser refrigerant pressure", "Verfluessigerdruck Kaeltemittel", "kPa",
             650.0, 950.0),
    "evap": ("chiller evaporator refrigerant pressure", "Verdampferdruck Kaeltemittel", "kPa",
             300.0, 420.0),
    "speed": ("cooling tower fan speed", "Drehzahl Ventilator Kuehlturm", "%", 15.0, 95.0),
    "leaving": ("cooling tower leaving water temperature",
                "Kuehlturm Wasser Austrittstemperatur", "degC", 20.0, 29.0),
    "entering": ("cooling tower entering water temperature",
                 "Kuehlturm Wasser Eintrittstemperatur", "degC", 24.0, 35.0),
    "wetbulb": ("cooling tower outdoor air wet bulb temperature",
                "Feuchtkugeltemperatur Luft aussen", "degC", -5.0, 30.0),
    "vib": ("cooling tower fan vibration", "Schwingung Ventilator Kuehlturm", "mm/s", 0.0,
            6.0),
}


def _catalog(plant: str) -> Catalog:
    chiller, tower, names = PLANTS[plant]
    german = plant == "german"
    tags: dict[tuple[str, ...], list[Spec]] = {chiller: [], tower: []}
    for role, name in names.items():
        en, de, unit, low, high = WORDS[role]
        owner = chiller if name.split(".")[0] == chiller[-1] else tower
        tags[owner].append((name.split(".")[1], de if german else en, unit, low, high))
    return catalog_of(tags)


def _series(base: float, noise: float, rise: float, seed: int) -> Series:
    rng = random.Random(seed)
    return [(T0 + timedelta(seconds=30 * i),
             base + rise * max(0.0, (i - 60) / 60) + rng.gauss(0, noise)) for i in range(120)]


def _candidates(plant: str, rises: dict[str, float]) -> list[Candidate]:
    """Ranked candidates with each role's reading rising by the given share of its range
    (noise: 0.5 % of the range)."""
    names = PLANTS[plant][2]
    cat = _catalog(plant)
    feats = {}
    for i, (name, info) in enumerate(cat.tags.items()):
        assert info.eu_low is not None and info.eu_high is not None
        span = info.eu_high - info.eu_low
        role = next(r for r, n in names.items() if n == name)
        f = analyse(name, _series(info.eu_low + span / 2, span * 0.005,
                                  rises.get(role, 0.0) * span, i),
                    info.eu_low, info.eu_high, None)
        assert f is not None
        feats[name] = f
    return ranked_candidates(cat, feats)


def _ranked(plant: str, rises: dict[str, float]) -> list[tuple[str, str | None]]:
    return [(c.cause, c.tag) for c in _candidates(plant, rises)]


def _confidence(candidates: list[Candidate], cause: str) -> float:
    return next(c.confidence for c in candidates if c.cause == cause)


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_a_small_move_of_a_counter_symptom_does_not_outweigh_the_main_symptom(
        plant: str) -> None:
    # The tower fan runs up by 45 % of its range and the water leaves warmer: the fan
    # moves less air. The wet bulb and the hot water rose by a tenth of their ranges, and
    # the fan vibrates more as it turns faster; neither outweighs the fan's run-up.
    rises = {"speed": 0.45, "leaving": 0.12, "entering": 0.1, "wetbulb": 0.1, "vib": 0.17}
    ranked = _candidates(plant, rises)
    assert ranked[0].cause == "cooling_tower.fan_degradation"
    assert _confidence(ranked, "cooling_tower.fan_degradation") > 0.75
    # A fan run up farther than its vibration rose vibrates for its speed, not its wear.
    assert _confidence(ranked, "fan.bearing_wear") <= 0.5
    # The wet bulb rising as far as the fan ran up does speak against it in full.
    weather = _candidates(plant, {**rises, "speed": 0.1, "vib": 0.0})
    assert _confidence(weather, "cooling_tower.fan_degradation") < 0.5


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_a_return_reading_gone_far_beyond_a_rising_load_is_its_transmitter(
        plant: str) -> None:
    names = PLANTS[plant][2]
    # The load rose a little: the chiller works harder (power, current, head pressure),
    # its return water warms a little, and so do the towers' water and the outdoor air.
    # Its return reading rose by half its range, far beyond all of that: the transmitter.
    rises = {"load": 0.09, "power": 0.13, "current": 0.8, "cond": 0.09, "wetbulb": 0.15,
             "leaving": 0.01, "entering": 0.04, "speed": 0.14}
    ranked = _ranked(plant, {**rises, "return": 0.45})
    assert ranked[0] == ("sensor_drift", names["return"])
    # Without the load rising, the same head pressure, power and current are the
    # condenser fouling (and the return reading is still its transmitter).
    fouled = _ranked(plant, {**rises, "load": 0.0, "return": 0.45})
    assert ("chiller.condenser_fouling", None) in fouled[:2]
