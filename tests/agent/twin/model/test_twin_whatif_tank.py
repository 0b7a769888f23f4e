"""What-if of a tank: its level from the flows in and out, its volume per unit of level
fitted from the recorded history, on two plants named differently (ISA loop tags in
English, a German hierarchy), with the flows its own or those of the equipment the site
file or the descriptions say feed it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent.errors import ToolError
from agent.twin.assets.file import AssetsFile
from agent.twin.assets.store import AssetModel
from agent.twin.historian.store import Historian, Sample
from agent.twin.whatif.engine import what_if
from agent.vault import Site
from agent.vault.layout import TWIN_DATABASE
from tools.opcua.catalog import Catalog
from tools.opcua.models import EquipmentInfo, TagInfo

#: The true volume per % of level (m³) and the inflow meter's error (m³/h).
PER_PCT = 0.4
METER_HIGH = 0.5

#: Per plant: the tank's browse path and its level, inflow and outflow tags (browse name,
#: description); a feeding pump's path and flow tag, and the words saying where it goes.
PLANTS: dict[str, tuple[Any, ...]] = {
    "isa": (("Plant", "Area_3", "TK_3"), ("LT_301", "tank level"),
            ("FT_302", "tank inlet flow"), ("FT_303", "tank outlet flow"),
            ("Plant", "Area_3", "PU_7"), ("FT_701", "pump discharge flow"), " to tank TK_3"),
    "german": (("Werk", "Wasser", "Behaelter_4"), ("Fuellstand", "Füllstand Behälter"),
               ("Zulauf", "Zulauf Durchfluss Behälter"), ("Ablauf", "Ablauf Durchfluss Behälter"),
               ("Werk", "Wasser", "Pumpe_4"), ("Durchfluss", "Durchfluss Druckseite Pumpe"),
               " zum Behälter 4"),
}


def _catalog(plant: str, *, own_inflow: bool = True, words: bool = False) -> Catalog:
    """The tank and a pump; without ``own_inflow`` the tank has no inflow tag, with
    ``words`` the pump's flow says it goes to the tank."""
    tank, level, inflow, outflow, pump, pump_flow, to_tank = PLANTS[plant]
    flow = (pump_flow[0], pump_flow[1] + (to_tank if words else ""))
    specs = {tank: [(level, "%"), (outflow, "m3/h")] + ([(inflow, "m3/h")] if own_inflow
                                                          else []),
             pump: [(flow, "m3/h")]}
    cat = Catalog()
    for path, tags in specs.items():
        eq = path[-1]
        cat.add(EquipmentInfo(name=eq, browse_path=list(path), node_id=f"ns=2;s={eq}"), [
            TagInfo(name=f"{eq}.{b}", equipment=eq, browse_path=[*path, b],
                    node_id=f"ns=2;s={eq}.{b}", namespace_uri="urn:test", unit=u,
                    eu_low=0.0, eu_high=100.0, description=d, data_type="Double")
            for (b, d), u in tags])
    return cat


def _record(historian: Historian, plant: str, now: datetime, inflow_tag: str) -> None:
    """20 minutes every 5 s: the inflow steps from 30 to 36 m³/h ten minutes ago (its
    meter reads METER_HIGH too high), the outflow stays at 30, the level climbs."""
    tank, level_tag, _, outflow, *_ = PLANTS[plant]
    rng = random.Random(7)
    level, rows = 40.0, []
    for i in range(240):
        t = (now - timedelta(seconds=5 * (240 - i))).timestamp()
        q_in = 36.0 if i >= 120 else 30.0
        level += (q_in - 30.0) / 3600.0 * 5.0 / PER_PCT
        rows += [Sample(f"{tank[-1]}.{level_tag[0]}", t, level + rng.gauss(0, 0.02)),
                 Sample(inflow_tag, t, q_in + METER_HIGH + rng.gauss(0, 0.1)),
                 Sample(f"{tank[-1]}.{outflow[0]}", t, 30.0 + rng.gauss(0, 0.1))]
    historian.insert_batch(rows)


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_a_tank_s_level_follows_its_flows_with_its_size_fitted(plant: str, site: Site) -> None:
    tank, level, inflow, *_ = PLANTS[plant]
    db = site.database(TWIN_DATABASE)
    assets, historian = AssetModel(db), Historian(db)
    now = datetime.now(UTC)
    assets.sync(_catalog(plant), now)
    # The tank is found by its class, whatever the semantics call it; its folder's name
    # stands for it.
    assert [tank[-1]] == [c for e in assets.semantics().of_class("tank")
                          for c in e.catalog_equipment]
    _record(historian, plant, now, f"{tank[-1]}.{inflow[0]}")
    result = what_if(assets, historian, tank[-1], "inflow=20", hours=1, now=now)
    assert result.eq_class == "tank"
    fits = {f.name: f.value for f in result.fitted}
    assert fits["volume_per_level"] == pytest.approx(PER_PCT, rel=0.1)
    assert fits["flow_offset"] == pytest.approx(-METER_HIGH, abs=0.3)
    by_tag = {p.tag: p for p in result.predictions}
    lvl = by_tag[f"{tank[-1]}.{level[0]}"]
    # 20 in, 30 out for an hour: (20 - 30) / 0.4 = -25 % of level; unchanged, +15 %
    # (the meter's 0.5 m³/h too much is fitted away).
    assert lvl.end - lvl.now == pytest.approx(-25.0, abs=3.0)
    assert lvl.baseline_end - lvl.now == pytest.approx(15.0, abs=3.0)
    with pytest.raises(ToolError, match="outside the range"):
        what_if(assets, historian, tank[-1], "inflow=250", hours=1, now=now)


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_a_tank_without_an_inflow_tag_takes_its_feeder_s_flow_or_says_what_is_missing(
        plant: str, site: Site) -> None:
    tank, level, _, _, pump, pump_flow, _ = PLANTS[plant]
    db = site.database(TWIN_DATABASE)
    assets, historian = AssetModel(db), Historian(db)
    now = datetime.now(UTC)
    assets.sync(_catalog(plant, own_inflow=False), now)
    _record(historian, plant, now, f"{pump[-1]}.{pump_flow[0]}")
    with pytest.raises(ToolError, match="inlet flow") as refused:
        what_if(assets, historian, tank[-1], "outflow=40", hours=1, now=now)
    assert "assets.toml" in (refused.value.fix or "")
    # The site file says the pump feeds the tank: its flow is the inflow.
    site_file = AssetsFile.model_validate({"equipment": {pump[-1]: {"feeds": [tank[-1]]}}})
    assets.sync(_catalog(plant, own_inflow=False), now, site_file)
    result = what_if(assets, historian, tank[-1], "outflow=40", hours=1, now=now)
    assert f"{pump[-1]}.{pump_flow[0]}" in {p.tag for p in result.predictions}
    lvl = next(p for p in result.predictions if p.tag == f"{tank[-1]}.{level[0]}")
    assert lvl.end < lvl.now < lvl.baseline_end


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_a_tank_takes_the_flow_its_feeder_s_description_sends_to_it(
        plant: str, site: Site) -> None:
    tank, level, _, _, pump, pump_flow, _ = PLANTS[plant]
    db = site.database(TWIN_DATABASE)
    assets, historian = AssetModel(db), Historian(db)
    now = datetime.now(UTC)
    assets.sync(_catalog(plant, own_inflow=False, words=True), now)
    _record(historian, plant, now, f"{pump[-1]}.{pump_flow[0]}")
    result = what_if(assets, historian, tank[-1], "inflow=20", hours=1, now=now)
    assert f"{pump[-1]}.{pump_flow[0]}" in {p.tag for p in result.predictions}
    lvl = next(p for p in result.predictions if p.tag == f"{tank[-1]}.{level[0]}")
    assert lvl.end - lvl.now == pytest.approx(-25.0, abs=3.0)


def test_the_site_s_size_of_a_tank_named_by_its_semantics_is_used(site: Site) -> None:
    """A tank the semantics name differently from its catalog folder (ISA loop tags: the
    tank is called by its description) takes the size the site file gives under that
    name (it was dropped: only catalog folders held parameters)."""
    plant = "isa"
    tank, _, inflow, *_ = PLANTS[plant]
    db = site.database(TWIN_DATABASE)
    assets, historian = AssetModel(db), Historian(db)
    now = datetime.now(UTC)
    assets.sync(_catalog(plant), now)
    name = assets.semantics().of_class("tank")[0].name
    assert name != tank[-1]
    site_file = AssetsFile.model_validate({"equipment": {name: {
        "class": "tank", "parameters": {"volume_per_level": 2 * PER_PCT}}}})
    assets.sync(_catalog(plant), now, site_file)
    _record(historian, plant, now, f"{tank[-1]}.{inflow[0]}")
    result = what_if(assets, historian, name, "inflow=20", hours=1, now=now)
    size = next(f for f in result.fitted if f.name == "volume_per_level")
    assert (size.value, size.method) == (2 * PER_PCT, "site file")
