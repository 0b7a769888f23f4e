"""Every fault mode shows in the values within three onset time constants (physics only),
and develops the way the real failure does."""

from __future__ import annotations

import pytest

from agent.errors import InvalidArgumentError, UnknownNameError
from plant.faults import FAULTS, fault_registry
from plant.model import PlantModel
from plant.tags import tags_by_name

SEED = 11

#: fault, target, [(tag, direction, minimum change)] relative to a healthy twin run.
EXPECTED: list[tuple[str, str, list[tuple[str, int, float]]]] = [
    (
        "bearing_wear",
        "P-101",
        [("P-101.Vibration", +1, 3.0), ("P-101.BearingTemperature", +1, 15.0)],
    ),
    (
        "bearing_wear",
        "M-101",
        [("M-101.Vibration", +1, 3.0), ("M-101.BearingTemperature", +1, 15.0)],
    ),
    (
        "bearing_wear",
        "C-101",
        [("C-101.Vibration", +1, 3.0), ("C-101.BearingTemperature", +1, 15.0)],
    ),
    (
        "filter_clogging",
        "F-101",
        [
            ("F-101.DifferentialPressure", +1, 30.0),
            ("P-101.FlowRate", -1, 1.0),
            ("P-101.SuctionPressure", -1, 0.3),
        ],
    ),
    (
        "cooling_loss",
        "HX-101",
        [
            ("HX-101.HotOutletTemperature", +1, 5.0),
            ("HX-101.CoolantFlow", -1, 10.0),
            ("HX-101.CoolantValvePosition", +1, 20.0),
        ],
    ),
    (
        "hx_fouling",
        "HX-101",
        [
            ("HX-101.CoolantValvePosition", +1, 20.0),
            ("HX-101.CoolantFlow", +1, 10.0),
            ("HX-101.HotOutletTemperature", +1, 3.0),
        ],
    ),
    (
        "conveyor_jam",
        "CV-101",
        [
            ("M-101.Current", +1, 4.0),
            ("M-101.Torque", +1, 15.0),
            ("CV-101.BeltSpeed", -1, 0.5),
            ("CV-101.Load", +1, 100.0),
        ],
    ),
    ("conveyor_jam", "M-101", [("M-101.Current", +1, 4.0), ("CV-101.BeltSpeed", -1, 0.5)]),
    (
        "compressor_valve_leak",
        "C-101",
        [
            ("C-101.DischargeTemperature", +1, 15.0),
            ("C-101.DutyCycle", +1, 15.0),
            ("C-101.OilTemperature", +1, 8.0),
            ("C-101.DischargePressure", -1, 0.3),
        ],
    ),
    ("feed_valve_stuck", "T-101", [("T-101.Level", -1, 15.0), ("T-101.InletFlow", -1, 10.0)]),
]


def horizon(fault: str) -> float:
    """Three onset time constants, at least ten minutes."""
    return max(3.0 * fault_registry()[fault].onset_s, 600.0)


def run_pair(fault: str, target: str, seconds: float) -> tuple[PlantModel, PlantModel]:
    """A faulty model and its healthy twin (same seed, same disturbances)."""
    faulty, healthy = PlantModel(seed=SEED), PlantModel(seed=SEED)
    faulty.inject(fault, target)
    faulty.advance(seconds)
    healthy.advance(seconds)
    return faulty, healthy


@pytest.mark.parametrize(("fault", "target", "symptoms"), EXPECTED, ids=lambda v: str(v)[:24])
def test_process_fault_shows_within_three_time_constants(
    fault: str, target: str, symptoms: list[tuple[str, int, float]]
) -> None:
    faulty, healthy = run_pair(fault, target, horizon(fault))
    bad, good = faulty.true_values(), healthy.true_values()
    for tag, direction, minimum in symptoms:
        change = (bad[tag] - good[tag]) * direction
        assert change >= minimum, f"{fault} on {target}: {tag} moved {change:+.3g}, want {minimum}"


def test_every_fault_mode_is_covered_by_a_physics_test() -> None:
    covered = {f for f, _, _ in EXPECTED} | {"sensor_drift", "stuck_sensor"}
    assert covered == {f.name for f in FAULTS}
    assert len(FAULTS) >= 6


def test_faults_outside_their_target_leave_other_equipment_alone() -> None:
    faulty, healthy = run_pair("cooling_loss", "HX-101", 900.0)
    bad, good = faulty.true_values(), healthy.true_values()
    for tag in ("P-101.Vibration", "C-101.DischargePressure", "M-101.Current", "T-101.Level"):
        assert bad[tag] == pytest.approx(good[tag], rel=1e-6)


def test_bearing_wear_creeps_then_accelerates() -> None:
    model = PlantModel(seed=SEED)
    model.inject("bearing_wear", "P-101")
    vibration = []
    for _ in range(3):
        model.advance(3600.0)
        vibration.append(model.true_values()["P-101.Vibration"])
    start = PlantModel(seed=SEED).true_values()["P-101.Vibration"]
    first, last = vibration[0] - start, vibration[2] - vibration[1]
    assert last > 4 * first > 0


def test_filter_clogging_dp_rises_monotonically_while_flow_falls() -> None:
    model = PlantModel(seed=SEED)
    model.inject("filter_clogging", "F-101")
    dps, flows = [], []
    for _ in range(6):
        model.advance(1200.0)
        values = model.true_values()
        dps.append(values["F-101.DifferentialPressure"])
        flows.append(values["P-101.FlowRate"])
    assert dps == sorted(dps)
    assert flows[-1] < flows[0] - 1.0


def test_sensor_drift_offsets_the_reading_not_the_process() -> None:
    tag = "P-101.FlowRate"
    faulty, healthy = run_pair("sensor_drift", tag, horizon("sensor_drift"))
    span = tags_by_name()[tag].span
    assert faulty.true_values()[tag] == pytest.approx(healthy.true_values()[tag], rel=1e-9)
    offsets = [faulty.values()[tag] - faulty.true_values()[tag] for _ in range(20)]
    assert sum(offsets) / len(offsets) == pytest.approx(0.25 * span, abs=0.05 * span)


def test_sensor_drift_grows_slowly() -> None:
    model = PlantModel(seed=SEED)
    model.inject("sensor_drift", "T-101")  # hits the primary variable, the level
    model.advance(600.0)
    early = model.values()["T-101.Level"] - model.true_values()["T-101.Level"]
    model.advance(4200.0)
    late = model.values()["T-101.Level"] - model.true_values()["T-101.Level"]
    assert late > early + 3.0


def test_stuck_sensor_freezes_the_last_reading_while_the_process_moves() -> None:
    tag = "HX-101.HotOutletTemperature"
    model = PlantModel(seed=SEED)
    last_reading = model.values()[tag]
    model.inject("stuck_sensor", "HX-101")  # primary variable of HX-101
    model.inject("cooling_loss", "HX-101")  # make the process move under the sensor
    readings = []
    for _ in range(10):
        model.advance(120.0)
        readings.append(model.values()[tag])
    assert readings == [last_reading] * 10  # frozen, and no noise at all
    assert model.true_values()[tag] > last_reading + 5.0
    model.clear("HX-101")
    assert model.values()[tag] != last_reading
    assert model.active_faults() == []


def test_unknown_fault_and_equipment_get_clear_errors_with_close_matches() -> None:
    model = PlantModel(seed=SEED)
    with pytest.raises(UnknownNameError) as fault_err:
        model.inject("bearing_waer", "P-101")
    assert fault_err.value.suggestions == ["bearing_wear"]
    assert "sim faults" in str(fault_err.value)
    with pytest.raises(UnknownNameError) as eq_err:
        model.inject("bearing_wear", "P-110")
    assert "P-101" in eq_err.value.suggestions
    with pytest.raises(InvalidArgumentError) as class_err:
        model.inject("bearing_wear", "HX-101")
    assert set(class_err.value.suggestions) == {"P-101", "C-101", "M-101"}
    with pytest.raises(UnknownNameError):
        model.clear("PP-101")


def test_inject_twice_keeps_the_first_and_clear_all_removes_everything() -> None:
    model = PlantModel(seed=SEED)
    first = model.inject("bearing_wear", "P-101")
    model.advance(600.0)
    again = model.inject("bearing_wear", "P-101")
    assert again.started_s == first.started_s
    model.inject("conveyor_jam", "CV-101")
    assert {f.fault for f in model.active_faults()} == {"bearing_wear", "conveyor_jam"}
    assert len(model.clear("*")) == 2
    assert model.active_faults() == []


@pytest.mark.parametrize(("fault", "target"), sorted({(f, t) for f, t, _ in EXPECTED}))
def test_line_recovers_after_a_fault_is_cleared(fault: str, target: str) -> None:
    model = PlantModel(seed=SEED)
    model.inject(fault, target)
    model.advance(horizon(fault))
    model.clear(target)
    model.advance(2 * 3600.0)
    values = model.true_values()
    outside = [t for t, s in tags_by_name().items() if not s.low <= values[t] <= s.high]
    assert outside == []
