"""The asset model: sync from a real server (the demo plant and a differently built one),
re-sync after the address space changes, enrichment from a strictly validated file."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import ConfigError
from agent.runtime import SiteRuntime
from agent.twin.assets.file import load_assets_file
from agent.twin.assets.store import AssetModel
from agent.twin.whatif.engine import check_parameters
from agent.vault import Site
from agent.vault.layout import TWIN_DATABASE
from plant.server import DemoPlantServer
from tools.context import utcnow
from tools.opcua.catalog import Catalog

from .layout_server import LayoutServer
from .twin_helpers import make_settings

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def _browse(home: Path, endpoint: str) -> Catalog:
    async with SiteRuntime(make_settings(home, endpoint)) as runtime:
        return await runtime.catalog()


async def test_sync_demo_plant_stores_hierarchy_units_limits(
    demo_plant: DemoPlantServer, site: Site
) -> None:
    catalog = await _browse(site.home, demo_plant.endpoint)
    model = AssetModel(site.database(TWIN_DATABASE))
    report = model.sync(catalog, utcnow())
    assert report.active_equipment == 7 and report.active_tags == 47
    assert set(report.added_equipment) == {
        "T-101",
        "F-101",
        "P-101",
        "HX-101",
        "C-101",
        "CV-101",
        "M-101",
    }
    pump = model.get("P-101")
    assert pump is not None and pump.path == "DemoSite/ProcessArea/Line1/P-101"
    flow = pump.tag("FlowRate")
    assert flow is not None and (flow.low, flow.high) == (27.0, 35.0)
    assert flow.unit and flow.description == "Pump discharge flow"
    again = model.sync(catalog, utcnow())
    assert again.unchanged and again.added_tags == []


async def test_other_layout_without_units_syncs_and_tracks_changes(
    layout: LayoutServer, site: Site
) -> None:
    model = AssetModel(site.database(TWIN_DATABASE))
    first = model.sync(await _browse(site.home, layout.endpoint), utcnow())
    assert sorted(first.added_equipment) == ["Boiler-1", "Robot-7"]
    boiler = model.get("Boiler-1")
    assert boiler is not None and boiler.path == "Factory/Boiler-1"
    feed = boiler.tag("FeedwaterFlow")
    assert feed is not None and (feed.unit, feed.low, feed.high) == (None, None, None)
    robot = model.get("Robot-7")
    assert robot is not None and robot.path == "Factory/Hall2/Cell-A/Robot-7"
    torque = robot.tag("Torque")
    assert torque is not None and torque.unit == "N·m" and torque.high is None

    # The address space changes under us: one variable added, one deleted, a range edited.
    await layout.add_variable("Boiler-1", "DrumLevel", 50.0, "%", (30.0, 70.0))
    await layout.delete_variable("Robot-7.Torque")
    rng = await layout.variables["Boiler-1.SteamPressure"].get_child("0:EURange")
    await rng.write_value(layout_range(9.0, 15.0))
    second = model.sync(await _browse(site.home, layout.endpoint), utcnow())
    assert second.added_tags == ["Boiler-1.DrumLevel"]
    assert second.removed_tags == ["Robot-7.Torque"]
    changed = {c.name: {f.field: (f.old, f.new) for f in c.changes} for c in second.changed_tags}
    assert changed == {"Boiler-1.SteamPressure": {"eu_low": (8.0, 9.0), "eu_high": (14.0, 15.0)}}
    assert second.retired_tags == 1

    # The removed tag is kept, marked retired; it comes back active if the server has it again.
    everything = model.equipment(include_retired=True)
    retired = [t for e in everything for t in e.tags if t.status == "retired"]
    assert [t.name for t in retired] == ["Robot-7.Torque"] and retired[0].retired_at
    assert model.get("Robot-7") is not None
    robot_now = model.get("Robot-7")
    assert robot_now is not None and robot_now.tag("Torque") is None
    await layout.add_variable("Robot-7", "Torque", 41.0)
    third = model.sync(await _browse(site.home, layout.endpoint), utcnow())
    assert third.added_tags == ["Robot-7.Torque"] and third.retired_tags == 0


def layout_range(low: float, high: float) -> object:
    from asyncua import ua

    return ua.Range(Low=low, High=high)


async def test_asset_file_enriches_and_rejects_typos(site: Site, tmp_path: Path) -> None:
    from .twin_helpers import demo_catalog

    path = tmp_path / "assets.toml"
    path.write_text(
        '[equipment.F-101]\nclass = "filter"\nfeeds = ["P-101"]\n'
        '[equipment.P-101]\nclass = "pump"\ncriticality = "high"\n'
        'maintenance_interval_days = 180\nfeeds = ["HX-101"]\n'
        '[equipment.HX-101]\nclass = "heat_exchanger"\n'
        "[equipment.HX-101.parameters]\noutlet_setpoint_c = 35.0\n"
        '[equipment.X-999]\nclass = "valve"\n',
        encoding="utf-8",
    )
    site_file = load_assets_file(path)
    check_parameters(site_file)
    model = AssetModel(site.database(TWIN_DATABASE))
    report = model.sync(demo_catalog(), utcnow(), site_file, path)
    assert report.unmatched_site_entries == ["X-999"]
    pump = model.get("P-101")
    assert pump is not None
    assert (pump.eq_class, pump.criticality, pump.maintenance_interval_days) == (
        "pump",
        "high",
        180.0,
    )
    assert pump.feeds == ["HX-101"]
    hx = model.get("HX-101")
    assert hx is not None and hx.parameters == {"outlet_setpoint_c": 35.0}

    path.write_text('[equipment.P-101]\ncritcality = "high"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as typo:
        load_assets_file(path)
    assert "equipment.P-101.critcality" in typo.value.message
    assert "criticality" in (typo.value.fix or "")

    path.write_text('[equipment.P-101]\nclass = "pomp"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"equipment\.P-101\.class"):
        load_assets_file(path)

    path.write_text('[equipment.P-101]\nfeeds = ["HX-110"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as unknown:
        model.sync(demo_catalog(), utcnow(), load_assets_file(path), path)
    assert "HX-110" in unknown.value.message and "HX-101" in (unknown.value.fix or "")

    path.write_text(
        '[equipment.HX-101]\nclass = "heat_exchanger"\n'
        "[equipment.HX-101.parameters]\nua_kwk = 60\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as param:
        check_parameters(load_assets_file(path))
    assert "ua_kwk" in param.value.message and "ua_kw_k" in (param.value.fix or "")
