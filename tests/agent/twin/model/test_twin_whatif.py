"""The what-if: predictions of the fitted physics models checked against the simulator
running the same change (plant.model.PlantModel forward), refusals out of range, the tool."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from agent.errors import InvalidArgumentError, ToolError, UnknownNameError
from agent.settings import load_settings
from agent.twin.assets.store import AssetModel
from agent.twin.historian.store import Historian
from agent.twin.whatif.engine import what_if
from agent.twin.whatif.records import WhatIfResult
from agent.vault import Site
from agent.vault.layout import TWIN_DATABASE
from plant.model import PlantModel
from tools import whatif as whatif_tools
from tools.context import ToolContext
from tools.registry import ToolRegistry
from tools.whatif import WhatIfArgs

from .twin_helpers import demo_catalog, record_model

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _twin(site: Site) -> tuple[AssetModel, Historian]:
    conn = site.database(TWIN_DATABASE)
    assets = AssetModel(conn)
    assets.sync(demo_catalog(), NOW)
    return assets, Historian(conn)


def _simulate(model: PlantModel, hours: float) -> dict[str, float]:
    """Mean true values over the last ten minutes of ``hours`` (averages out disturbances)."""
    model.advance(hours * 3600 - 600)
    sums: dict[str, float] = {}
    for _ in range(120):
        model.advance(5.0)
        for tag, value in model.true_values().items():
            sums[tag] = sums.get(tag, 0.0) + value / 120
    return sums


def _compare(result: WhatIfResult, sim: dict[str, float], tolerance: dict[str, float]) -> None:
    ends = {p.tag: p.end for p in result.predictions}
    for tag, tol in tolerance.items():
        assert ends[tag] == pytest.approx(sim[tag], abs=tol), tag


def _setpoint(section: str, name: str, value: float) -> Callable[[PlantModel], None]:
    def apply(model: PlantModel) -> None:
        part = dataclasses.replace(getattr(model.params, section), **{name: value})
        model.params = dataclasses.replace(model.params, **{section: part})

    return apply


CASES = [
    # (fault, develop_h, equipment, change, what the simulator does, tolerances)
    (
        "hx_fouling",
        3.0,
        "HX-101",
        "clean",
        lambda m: m.clear("HX-101"),
        {
            "HX-101.HotOutletTemperature": 0.5,
            "HX-101.CoolantValvePosition": 4.0,
            "HX-101.CoolantFlow": 2.5,
        },
    ),
    (
        None,
        1.0,
        "HX-101",
        "setpoint=32",
        _setpoint("cooler", "outlet_setpoint_c", 32.0),
        {
            "HX-101.HotOutletTemperature": 0.5,
            "HX-101.CoolantValvePosition": 5.0,
            "HX-101.HeatDuty": 60.0,
        },
    ),
    (
        "filter_clogging",
        2.0,
        "F-101",
        "replace_filter",
        lambda m: m.clear("F-101"),
        {
            "P-101.FlowRate": 0.3,
            "F-101.DifferentialPressure": 1.0,
            "P-101.SuctionPressure": 0.02,
            "P-101.DischargePressure": 0.05,
        },
    ),
    (
        "compressor_valve_leak",
        1.25,
        "C-101",
        "repair_valve",
        lambda m: m.clear("C-101"),
        {
            "C-101.DischargePressure": 0.1,
            "C-101.DischargeTemperature": 4.0,
            "C-101.MotorCurrent": 3.0,
        },
    ),
    (
        None,
        1.0,
        "C-101",
        "setpoint=6.5",
        _setpoint("compressor", "pressure_setpoint_bar", 6.5),
        {
            "C-101.DischargePressure": 0.05,
            "C-101.DischargeTemperature": 1.5,
            "C-101.MotorCurrent": 2.0,
        },
    ),
]


@pytest.mark.parametrize("fault,develop_h,equipment,change,apply,tolerance", CASES)
def test_prediction_matches_the_simulator(
    site: Site,
    fault: str | None,
    develop_h: float,
    equipment: str,
    change: str,
    apply: Callable[[PlantModel], None],
    tolerance: dict[str, float],
) -> None:
    assets, historian = _twin(site)
    model = PlantModel(seed=11)
    if fault:
        model.inject(fault, equipment)
    model.advance(develop_h * 3600 - 20 * 60)
    record_model(model, historian, NOW, minutes=20)

    result = what_if(assets, historian, equipment, change, hours=1.0, now=NOW)
    simulator = copy.deepcopy(model)
    apply(simulator)
    _compare(result, _simulate(simulator, 1.0), tolerance)
    # And the change matters: without it the prediction stays where the plant is.
    baseline = _simulate(copy.deepcopy(model), 1.0)
    tag = next(iter(tolerance))
    ends = {p.tag: p for p in result.predictions}
    assert ends[tag].baseline_end == pytest.approx(baseline[tag], abs=tolerance[tag] * 2)


def test_fouled_cooler_crossings_and_fits(site: Site) -> None:
    assets, historian = _twin(site)
    model = PlantModel(seed=5)
    model.inject("hx_fouling", "HX-101")
    model.advance(3 * 3600 - 20 * 60)
    record_model(model, historian, NOW, minutes=20)
    result = what_if(assets, historian, "HX-101", "clean", hours=2, now=NOW)
    fits = {f.name: f for f in result.fitted}
    # A fully fouled cooler keeps 35 % of its 70 kW/K.
    assert fits["ua_kw_k"].value == pytest.approx(0.35 * 70, rel=0.15)
    assert fits["coolant_max_m3h"].value == pytest.approx(55, rel=0.05)
    returns = [c for c in result.crossings if c.tag == "HX-101.HotOutletTemperature"]
    assert returns and returns[0].kind == "returns" and returns[0].after_minutes <= 15
    assert not [
        c
        for c in result.baseline_crossings
        if c.kind == "returns" and c.tag == "HX-101.HotOutletTemperature"
    ]


def test_out_of_range_and_unknown_changes_are_refused(site: Site) -> None:
    assets, historian = _twin(site)
    record_model(PlantModel(seed=2), historian, NOW, minutes=10)
    with pytest.raises(InvalidArgumentError) as far:
        what_if(assets, historian, "HX-101", "setpoint=80", hours=1, now=NOW)
    assert "not extrapolating" in far.value.message and "between" in (far.value.fix or "")
    with pytest.raises(InvalidArgumentError, match="outside"):
        what_if(assets, historian, "C-101", "setpoint=12", hours=1, now=NOW)
    with pytest.raises(InvalidArgumentError) as action:
        what_if(assets, historian, "HX-101", "replace_bearing", hours=1, now=NOW)
    assert "clean" in (action.value.fix or "")
    with pytest.raises(InvalidArgumentError):
        what_if(assets, historian, "HX-101", "setpoint=abc", hours=1, now=NOW)
    with pytest.raises(InvalidArgumentError):
        what_if(assets, historian, "HX-101", "clean", hours=100, now=NOW)
    with pytest.raises(UnknownNameError) as unknown:
        what_if(assets, historian, "HX-110", "clean", hours=1, now=NOW)
    assert unknown.value.suggestions[0] == "HX-101"
    with pytest.raises(ToolError, match="no what-if model"):
        what_if(assets, historian, "CV-101", "clear_fault", hours=1, now=NOW)


def test_without_history_the_model_says_record_first(site: Site) -> None:
    assets, historian = _twin(site)
    with pytest.raises(ToolError) as err:
        what_if(assets, historian, "C-101", "repair_valve", hours=1, now=NOW)
    assert "twin record" in (err.value.fix or "")


async def test_what_if_tool_through_the_registry(site: Site) -> None:
    assets, historian = _twin(site)
    record_model(PlantModel(seed=4), historian, NOW, minutes=10)
    ctx = ToolContext(settings=load_settings(home=site.home), clock=lambda: NOW)
    registry = ToolRegistry()
    whatif_tools.register(registry)
    spec = registry.get("what_if")
    with pytest.raises(ToolError, match="asset model is not available"):
        await spec.run(ctx, WhatIfArgs(equipment="C-101", change="setpoint=7.2"))
    ctx.assets = assets
    ctx.historian = historian
    result = await spec.run(ctx, WhatIfArgs(equipment="C-101", change="setpoint=7.2", hours=1))
    assert isinstance(result, WhatIfResult) and result.eq_class == "compressor"
    pressure = next(p for p in result.predictions if p.tag == "C-101.DischargePressure")
    assert pressure.end == pytest.approx(7.2, abs=0.05)
    assert pressure.baseline_end == pytest.approx(7.0, abs=0.05)
    schema = spec.args_model.model_json_schema()
    assert schema["properties"]["hours"]["maximum"] == 24.0
