"""KitModel without a server: deterministic per seed, faults named and targeted clearly."""

from __future__ import annotations

import pytest

from agent.errors import InvalidArgumentError, UnknownNameError
from plant.kit.model import KitModel
from plant.testplants import all_test_plants


def test_models_are_deterministic_per_seed() -> None:
    for plant in all_test_plants().values():
        a, b = KitModel(plant, seed=3), KitModel(plant, seed=3)
        for m in (a, b):
            m.inject("instrument.drift", plant.equipment[0].id)
            m.advance(600.0)
        assert a.values() == b.values()
        assert KitModel(plant, seed=4).values() != a.values()


def test_every_plant_has_three_faults_and_an_instrument_fault_on_any_tag() -> None:
    for plant in all_test_plants().values():
        process = [f for f in plant.faults if not f.sensor]
        assert len(process) >= 3 and {"instrument.drift", "instrument.stuck"} <= {
            f.name for f in plant.faults}
        assert all("." in f.name for f in plant.faults)  # "<class>.<mode>"
        model = KitModel(plant)
        for tag in (plant.tags[0], plant.tags[-1]):
            # A tag by its key, its browse name or its node id.
            for target in (tag.key, tag.browse_name, str(tag.node)):
                status = model.inject("instrument.stuck", target)
                assert status.tag == tag.key
                model.clear("*")


def test_bad_names_say_what_is_valid() -> None:
    plant = all_test_plants()["waterworks"]
    model = KitModel(plant)
    with pytest.raises(UnknownNameError) as unknown:
        model.inject("pump.bearing_wear", "P-2011")
    assert "P-2001" in unknown.value.suggestions
    with pytest.raises(InvalidArgumentError) as wrong:
        model.inject("pump.bearing_wear", "S-2010")
    assert "P-2001" in (wrong.value.fix or "")
    with pytest.raises(UnknownNameError):
        model.inject("pump.bearing_waer", "P-2001")


def test_a_stuck_transmitter_stops_moving_while_the_process_goes_on() -> None:
    plant = all_test_plants()["chillerplant"]
    model = KitModel(plant)
    model.values()
    model.inject("instrument.stuck", "CH-1.chilled_water_supply_temperature")
    frozen = model.values()["CH-1.chilled_water_supply_temperature"]
    model.advance(300.0)
    assert model.values()["CH-1.chilled_water_supply_temperature"] == frozen
    assert model.values()["CH-1.chilled_water_return_temperature"] != model.values()[
        "CH-1.chilled_water_return_temperature"]  # noise keeps the others moving


def test_sim_names_the_plants_it_can_serve(capsys: pytest.CaptureFixture[str]) -> None:
    from agent.cli import main

    assert main(["sim", "--plant", "brewery"]) == 2
    err = capsys.readouterr().err
    assert "brewery" in err and "waterworks" in err
