"""Physics of the demo line without a server: determinism, coupling, stability, limits."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from agent.errors import InvalidArgumentError, UnknownNameError
from agent.twin.physics.conveyor import ConveyorParams
from agent.twin.physics.filter import FilterParams, filter_dp_bar, filter_resistance
from agent.twin.physics.heat_exchanger import (
    HeatExchangerParams,
    HeatExchangerState,
    heat_exchanger_step,
)
from agent.twin.physics.motor import BearingParams, BearingState, bearing_step
from agent.twin.physics.pump import PumpParams, operating_point
from plant.alarms import LimitMonitor
from plant.line import LineParams
from plant.model import PlantModel
from plant.tags import TAGS


def test_line_has_enough_equipment_and_variables() -> None:
    model = PlantModel(seed=1)
    assert len(model.equipment_names()) >= 7
    assert len(model.tag_names()) >= 40
    assert set(model.values()) == set(model.tag_names())


def test_same_seed_same_trajectory_other_seed_other_noise() -> None:
    a, b, c = PlantModel(seed=5), PlantModel(seed=5), PlantModel(seed=6)
    for m in (a, b, c):
        m.inject("bearing_wear", "P-101")
        m.advance(1800.0)
    assert a.values() == b.values()
    assert a.values() != c.values()


def test_clone_is_an_independent_what_if_branch() -> None:
    base = PlantModel(seed=5)
    base.advance(600.0)
    branch = base.clone()
    branch.inject("cooling_loss", "HX-101")
    twin = base.clone()
    for m in (base, branch, twin):
        m.advance(900.0)
    assert twin.values() == base.values()
    assert base.active_faults() == []
    hot = "HX-101.HotOutletTemperature"
    assert branch.true_values()[hot] > base.true_values()[hot] + 5.0


def test_reading_more_often_does_not_change_the_process() -> None:
    a, b = PlantModel(seed=5), PlantModel(seed=5)
    for _ in range(60):
        a.advance(10.0)
        a.values()
    b.advance(600.0, dt=a.max_dt)
    assert a.true_values() == pytest.approx(b.true_values(), rel=1e-9)


def test_healthy_line_stays_inside_its_normal_ranges_for_hours() -> None:
    for seed in (1, 2):
        model = PlantModel(seed=seed)
        monitor = LimitMonitor()
        transitions = []
        for _ in range(6 * 360):
            model.step(10.0)
            transitions.extend(monitor.update(model.values()))
        assert transitions == [], f"seed {seed}: {transitions[:3]}"


def test_values_move_with_noise_and_disturbances() -> None:
    model = PlantModel(seed=3)
    first = model.values()
    model.advance(1800.0)
    later = model.values()
    moved = [t.name for t in TAGS if later[t.name] != first[t.name]]
    measured = [t.name for t in TAGS if not t.writable]
    assert moved == measured  # setpoints hold still: nobody changed them


def test_setpoint_change_moves_the_process() -> None:
    model = PlantModel(seed=5)
    assert model.setpoints()["HX-101.OutletTemperatureSetpoint"] == 35.0
    model.set_setpoint("HX-101.OutletTemperatureSetpoint", 33.0)
    model.set_setpoint("T-101.LevelSetpoint", 60.0)
    model.set_setpoint("C-101.PressureSetpoint", 7.3)
    model.advance(3600.0)
    values = model.true_values()
    assert values["HX-101.OutletTemperatureSetpoint"] == 33.0
    assert abs(values["HX-101.HotOutletTemperature"] - 33.0) < 0.5
    assert abs(values["T-101.Level"] - 60.0) < 1.0
    assert abs(values["C-101.DischargePressure"] - 7.3) < 0.1
    with pytest.raises(InvalidArgumentError):
        model.set_setpoint("HX-101.OutletTemperatureSetpoint", 80.0)
    with pytest.raises(UnknownNameError):
        model.set_setpoint("P-101.FlowRate", 30.0)


def test_long_steps_settle_where_short_steps_do() -> None:
    fine, coarse = PlantModel(seed=4), PlantModel(seed=4)
    fine.advance(7200.0, dt=1.0)
    coarse.advance(7200.0, dt=20.0)
    for tag in TAGS:
        a, b = fine.true_values()[tag.name], coarse.true_values()[tag.name]
        assert abs(a - b) < 0.1 * tag.span, tag.name


def test_more_load_makes_a_hotter_bearing() -> None:
    params = BearingParams()
    light, heavy = BearingState(), BearingState()
    for state, load in ((light, 0.3), (heavy, 0.9)):
        for _ in range(100):
            bearing_step(
                params, state, speed_frac=1.0, load_frac=load, wear=0.0, ambient_c=25.0, dt=60.0
            )
    assert heavy.temperature_c > light.temperature_c + 5.0
    assert heavy.vibration_mm_s > light.vibration_mm_s


def test_heavier_product_loads_the_conveyor_drive_and_heats_it() -> None:
    base = LineParams()
    heavy = replace(base, conveyor=replace(ConveyorParams(), item_mass_kg=1.6))
    normal_model, heavy_model = PlantModel(base, seed=2), PlantModel(heavy, seed=2)
    normal_model.advance(3600.0)
    heavy_model.advance(3600.0)
    n, h = normal_model.true_values(), heavy_model.true_values()
    assert h["M-101.Torque"] > n["M-101.Torque"] + 5.0
    assert h["M-101.Current"] > n["M-101.Current"]
    assert h["M-101.BearingTemperature"] > n["M-101.BearingTemperature"] + 1.0
    assert h["M-101.WindingTemperature"] > n["M-101.WindingTemperature"] + 3.0


def test_clogging_raises_filter_dp_and_lowers_flow() -> None:
    pump, strainer = PumpParams(), FilterParams()
    points = []
    for clogging in (0.0, 0.5, 1.0):
        r = filter_resistance(strainer, clogging)
        op = operating_point(
            pump, speed_frac=1.0, tank_head_m=5.2, tank_level_pct=55.0, filter_resistance=r
        )
        points.append((filter_dp_bar(r, op.flow_m3h), op.flow_m3h, op.suction_bar_abs))
    dps, flows, suctions = zip(*points, strict=True)
    assert list(dps) == sorted(dps) and dps[-1] > 2 * dps[0]
    assert list(flows) == sorted(flows, reverse=True)
    assert list(suctions) == sorted(suctions, reverse=True)


def test_low_tank_level_starves_the_pump() -> None:
    pump = PumpParams()
    r = filter_resistance(FilterParams(), 0.0)
    full = operating_point(
        pump, speed_frac=1.0, tank_head_m=5.2, tank_level_pct=55.0, filter_resistance=r
    )
    empty = operating_point(
        pump, speed_frac=1.0, tank_head_m=3.1, tank_level_pct=2.0, filter_resistance=r
    )
    assert empty.cavitation > 0.5 and full.cavitation == 0.0
    assert empty.flow_m3h < 0.6 * full.flow_m3h


def test_cooling_loss_raises_outlet_temperature() -> None:
    params = HeatExchangerParams()
    normal, lost = HeatExchangerState(), HeatExchangerState()
    for state, loss in ((normal, 0.0), (lost, 1.0)):
        for _ in range(600):
            heat_exchanger_step(
                params,
                state,
                product_flow_m3h=31.0,
                hot_in_c=62.0,
                coolant_in_c=18.0,
                fouling=0.0,
                supply_loss=loss,
                dt=2.0,
            )
    assert normal.hot_out_c == pytest.approx(params.outlet_setpoint_c, abs=0.5)
    assert lost.hot_out_c > normal.hot_out_c + 10.0
    assert lost.valve_pct > 95.0


def test_alarm_monitor_does_not_chatter_at_the_limit() -> None:
    tag = TAGS[0]
    monitor = LimitMonitor((tag,))
    rng = random.Random(0)
    transitions = []
    for _ in range(200):  # noise straddling the high limit, inside the deadband
        transitions += monitor.update({tag.name: tag.high + rng.uniform(-0.01, 0.01) * tag.span})
    assert [t.active for t in transitions] == [True]
    transitions = monitor.update({tag.name: tag.high - 0.05 * tag.span})
    assert [(t.limit, t.active) for t in transitions] == [("High", False)]
    assert monitor.active() == []
