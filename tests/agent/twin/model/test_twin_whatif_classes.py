"""What-if by equipment class on a plant that is not the demo: a BMS chiller plant (real
asyncua server, names like ``points.LWT``) recorded into the historian, its cooling tower
and chiller found by class and their tags by role; a pump without the roles the pump
model needs and a class without a model are refused with what to do."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from agent.errors import ToolError
from agent.twin.assets.store import AssetModel
from agent.twin.historian.recorder import Recorder
from agent.twin.historian.store import Historian
from agent.twin.whatif.engine import what_if
from agent.vault import Site
from agent.vault.layout import TWIN_DATABASE
from tests.support.plants import kit_plant
from tools.opcua.browse import browse_catalog
from tools.opcua.client import OpcUaConnection

from .twin_helpers import demo_catalog, make_settings

#: Enough aligned samples to fit (the model needs 6); waited for, never timed.
SAMPLES = 24


def latest_value(historian: Historian, tag: str) -> float:
    """The last recorded value of ``tag``."""
    value = historian.latest([tag])[tag].value
    assert value is not None
    return value


async def _recorded_chiller_plant(site: Site) -> tuple[AssetModel, Historian, str]:
    conn_db = site.database(TWIN_DATABASE)
    assets, historian = AssetModel(conn_db), Historian(conn_db)
    async with kit_plant("chillerplant") as server:
        settings = make_settings(site.home, server.endpoint)
        async with OpcUaConnection.from_settings(settings) as conn:
            catalog = await browse_catalog(conn)
            assets.sync(catalog, datetime.now(UTC))
            tower = assets.semantics().of_class("cooling_tower")[0]
            leaving = next(t.tag for t in assets.semantics().tags_of(tower.name)
                           if t.role == "outlet temperature")
            async with Recorder(historian, conn, list(catalog.tags.values()), period_ms=100):
                for _ in range(600):  # a generous bound on a condition, not a time limit
                    now = datetime.now(UTC).timestamp()
                    if len(historian.samples(leaving, now - 600, now + 1)) >= SAMPLES:
                        break
                    await asyncio.sleep(0.1)
    return assets, historian, tower.name


async def test_cooling_tower_what_if_by_role_and_refusals(site: Site) -> None:
    assets, historian, tower = await _recorded_chiller_plant(site)
    now = datetime.now(UTC)
    latest = {p.tag: p.now for p in what_if(
        assets, historian, tower, "clear_fault", hours=1, now=now).predictions}
    leaving = next(t for t in latest if t.endswith("LWT"))
    target = latest[leaving] - 1.0
    result = what_if(assets, historian, tower, f"setpoint={target:.2f}", hours=2, now=now)
    assert result.eq_class == "cooling_tower"
    fits = {f.name: f.value for f in result.fitted}
    # The plant runs without a fault: the fan is found healthy from its power at its speed.
    assert fits["fan_degradation"] < 0.15
    assert fits["ntu_design"] > 0.0
    by_tag = {p.tag: p for p in result.predictions}
    # A colder setpoint: the fan runs faster and the basin gets colder than without it.
    fan = next(p for t, p in by_tag.items() if t.endswith("FAN_SPD"))
    assert fan.end > fan.baseline_end
    assert by_tag[leaving].end < by_tag[leaving].baseline_end
    assert by_tag[leaving].end == pytest.approx(target, abs=0.5)

    # The chiller, found by class: a warmer chilled-water setpoint takes less power.
    chiller = assets.semantics().of_class("chiller")[0].name
    supply = next(t.tag for t in assets.semantics().tags_of(chiller)
                  if t.role == "supply temperature")
    warmer = latest_value(historian, supply) + 1.0
    result = what_if(assets, historian, chiller, f"setpoint={warmer:.2f}", hours=2, now=now)
    assert result.eq_class == "chiller"
    by_tag = {p.tag: p for p in result.predictions}
    assert by_tag[supply].end == pytest.approx(warmer, abs=0.3)
    power = next(p for t, p in by_tag.items() if t.endswith("KW"))
    assert power.end < power.baseline_end
    assert {f.name for f in result.fitted} >= {"chw_flow_m3h", "cw_flow_m3h", "ua_cond_kw_k"}

    # The catalog's folder of the tower's points stands for the tower.
    folder = assets.semantics().equipment[tower].catalog_equipment[0]
    assert what_if(assets, historian, folder, "repair_fan", hours=1, now=now).equipment == tower

    # A pump of this plant has no suction pressure, winding temperature ...: said so.
    pump = assets.semantics().of_class("pump")[0].name
    with pytest.raises(ToolError) as refused:
        what_if(assets, historian, pump, "replace_bearing", hours=1, now=now)
    assert "has no tag with the role" in refused.value.message
    assert '[tag."' in (refused.value.fix or "") and "assets.toml" in (refused.value.fix or "")

    # The air handler's fan (speed known only as its drive's command): slower, less air.
    fan_eq = assets.semantics().of_class("fan")[0].name
    airflow = next(t.tag for t in assets.semantics().tags_of(fan_eq) if t.quantity == "flow")
    speed = next(t.tag for t in assets.semantics().tags_of(fan_eq) if t.quantity == "speed")
    slower = latest_value(historian, speed) - 15.0
    result = what_if(assets, historian, fan_eq, f"speed={slower:.1f}", hours=1, now=now)
    by_tag = {p.tag: p for p in result.predictions}
    assert result.eq_class == "fan"
    assert by_tag[airflow].end < 0.95 * by_tag[airflow].baseline_end
    assert by_tag[airflow].baseline_end == pytest.approx(by_tag[airflow].now, rel=0.05)


def test_a_class_without_a_model_is_refused(site: Site) -> None:
    assets = AssetModel(site.database(TWIN_DATABASE))
    assets.sync(demo_catalog(), datetime.now(UTC))
    conveyor = assets.semantics().of_class("conveyor")[0].name
    with pytest.raises(ToolError, match="no what-if model") as refused:
        what_if(assets, Historian(site.database(TWIN_DATABASE)), conveyor, "clear_fault",
                hours=1, now=datetime.now(UTC))
    assert "assets.toml" in (refused.value.fix or "")
