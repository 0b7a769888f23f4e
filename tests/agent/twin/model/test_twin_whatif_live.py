"""What-if of tanks and a dosing skid, live: a test plant served by a real asyncua server
in process, browsed and synced into the asset model and recorded into the historian as
`plantagent twin sync` and `twin record` do, then asked what a change would do, as
`plantagent twin whatif` and the what-if tool ask (agent.twin.whatif.engine.what_if).

The plants run SPEED times faster than their timestamps (the recorder stamps wall time):
an hour of the plant is 1/SPEED hour of history. So the volume per % of level fitted on
the wall clock is the plant's own divided by SPEED, the contact tank's time constant is
given in the site file on the wall clock, and horizons are short. The truth the fits are
held to is the plant's own definition (plant.testplants), never a number tuned here.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from agent.errors import InvalidArgumentError, ToolError
from agent.twin.assets.file import assets_path, load_assets_file
from agent.twin.assets.store import AssetModel
from agent.twin.historian.recorder import Recorder
from agent.twin.historian.store import Historian
from agent.twin.whatif.engine import check_parameters, what_if
from agent.twin.whatif.records import WhatIfResult
from agent.vault import Site
from agent.vault.layout import TWIN_DATABASE
from plant.kit.server import KitPlantServer
from plant.testplants import all_test_plants
from plant.testplants.waterworks import TANK_M3, WaterworksProcess
from tests.support.plants import kit_plant
from tools.opcua.browse import browse_catalog
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection

from ..semantics.semantics_helpers import truth
from .twin_helpers import make_settings

#: Simulated seconds per wall second.
SPEED = 600.0
#: Simulated seconds recorded before and after the fault that moves the skid.
LEG_S = 90 * 60.0
#: The horizon: one wall minute, ten hours of the plant.
HOURS = 1.0 / 60.0

#: Catalog tag -> (true equipment id, its class, the true quantity).
Truth = dict[str, tuple[str, str, str]]


async def _run_for(server: KitPlantServer, sim_s: float) -> None:
    """Wait until the plant has simulated ``sim_s`` more seconds."""
    model = server.model
    end = model.time_s + sim_s
    for _ in range(20 * 600):  # a generous bound on a condition, not a time limit
        if model.time_s >= end:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the plant did not advance {sim_s} s")


async def _recorded(site: Site, plant: str, fault: tuple[str, str] | None = None, *,
                    leg_s: float = LEG_S,
                    ) -> tuple[AssetModel, Historian, Catalog, Truth, dict[str, float], datetime]:
    """Sync and record ``plant``: ``leg_s`` of it, then ``fault`` injected and ``leg_s``
    more. Also the true values and the time just before the fault."""
    db = site.database(TWIN_DATABASE)
    assets, historian = AssetModel(db), Historian(db)
    async with kit_plant(plant, speed=SPEED) as server:
        settings = make_settings(site.home, server.endpoint)
        async with OpcUaConnection.from_settings(settings) as conn:
            catalog = await browse_catalog(conn)
            assets.sync(catalog, datetime.now(UTC))
            known = truth(server, catalog)
            async with Recorder(historian, conn, list(catalog.tags.values()), period_ms=100):
                await _run_for(server, leg_s)
                before, fault_at = server.model.true_values(), datetime.now(UTC)
                if fault is not None:
                    server.model.inject(*fault)
                    await _run_for(server, leg_s)
    return assets, historian, catalog, known, before, fault_at


def _resync(site: Site, assets: AssetModel, catalog: Catalog, text: str) -> None:
    """Write the site file and sync again, as `plantagent twin sync` does."""
    path = assets_path(site.home)
    path.write_text(text, encoding="utf-8")
    site_file = load_assets_file(path)
    check_parameters(site_file)
    assets.sync(catalog, datetime.now(UTC), site_file, path)


def _of(known: Truth, key: str) -> str:
    """The catalog tag of a true tag key ('T-4001.inlet_flow')."""
    equipment, _, quantity = key.rpartition(".")
    return next(t for t, (e, _, q) in known.items() if (e, q) == (equipment, quantity))


def _true_id(assets: AssetModel, known: Truth, name: str) -> str:
    """The true equipment id of the equipment the semantics call ``name``."""
    ids = {known[t][0] for t in assets.semantics().equipment[name].tags}
    assert len(ids) == 1, ids
    return ids.pop()


def _end(result: WhatIfResult, tag: str) -> tuple[float, float, float]:
    """(now, end with the change, end without it) of ``tag``."""
    p = next(p for p in result.predictions if p.tag == tag)
    return p.now, p.end, p.baseline_end


def _refused_for_want_of_an_inlet_flow(refused: pytest.ExceptionInfo[ToolError]) -> None:
    assert "has no tag with the role 'inlet flow'" in refused.value.message
    fix = refused.value.fix or ""
    assert "assets.toml" in fix and 'places = ["inlet"]' in fix


async def test_waterworks_dosing_skid_and_tank_fitted_live(site: Site) -> None:
    plant = all_test_plants()["waterworks"]
    skid_id = next(e.id for e in plant.equipment if e.eq_class == "dosing_skid")
    # The skid loses its prime halfway: the only way a flow-paced skid's dosing flow
    # moves apart from the water flow, so its gain can be told from the demand.
    assets, historian, catalog, known, before, fault_at = await _recorded(
        site, "waterworks", ("dosing_skid.loss_of_prime", skid_id))
    now = datetime.now(UTC)
    semantics = assets.semantics()
    tanks = {_true_id(assets, known, e.name): e.name for e in semantics.of_class("tank")}
    skid = next(e.name for e in semantics.of_class("dosing_skid"))
    assert _true_id(assets, known, skid) == skid_id

    # Every tank of the gateway is refused until the site says which flow goes in: the
    # semantics place neither "RAW WATER FLOW TO CLEAR WATER TANK" nor "TREATED WATER TO
    # DISTRIBUTION" (the well has no flow tag at all). The refusal names the fix.
    for name in tanks.values():
        with pytest.raises(ToolError) as refused:
            what_if(assets, historian, name, "outflow=100", hours=HOURS, now=now)
        _refused_for_want_of_an_inlet_flow(refused)
    fitted = [i for i in tanks if {f"{i}.inlet_flow", f"{i}.outlet_flow"} <= set(
        f"{e}.{q}" for e, _, q in known.values())]
    assert len(fitted) == 1
    tank_id = fitted[0]
    tank = tanks[tank_id]
    inflow, outflow = _of(known, f"{tank_id}.inlet_flow"), _of(known, f"{tank_id}.outlet_flow")
    level = _of(known, f"{tank_id}.level")
    # The site file: the fix the refusal named, and the contact time on the wall clock.
    tau = WaterworksProcess().dosing_p.contact_tau_s / SPEED
    _resync(site, assets, catalog,
            f'[tag.{json.dumps(inflow)}]\nplaces = ["inlet"]\n'
            f'[tag.{json.dumps(outflow)}]\nplaces = ["outlet"]\n'
            f'[equipment.{json.dumps(skid)}]\nclass = "dosing_skid"\n'
            f"parameters = {{ contact_tau_s = {tau} }}\n")

    # The tank: its size from the recorded level and flows, near the plant's own.
    q_in = historian.latest([inflow])[inflow].value
    q_out = historian.latest([outflow])[outflow].value
    assert q_in is not None and q_out is not None
    more_in = what_if(assets, historian, tank, f"inflow={q_in + 20:.1f}", hours=HOURS, now=now)
    fits = {f.name: f for f in more_in.fitted}
    assert fits["volume_per_level"].method.startswith("least squares")
    assert fits["volume_per_level"].value * SPEED == pytest.approx(TANK_M3 / 100.0, rel=0.3)
    _, end, baseline = _end(more_in, level)
    assert end > baseline + 5.0
    less_in = what_if(assets, historian, tank, f"inflow={q_in - 20:.1f}", hours=HOURS, now=now)
    assert _end(less_in, level)[1] < baseline - 5.0
    more_out = what_if(assets, historian, tank, f"outflow={q_out + 20:.1f}", hours=HOURS,
                       now=now)
    assert _end(more_out, level)[1] < baseline - 5.0
    with pytest.raises(InvalidArgumentError, match="not extrapolating") as refused:
        what_if(assets, historian, tank, f"inflow={10 * q_in:.0f}", hours=HOURS, now=now)
    assert "propose a inflow between" in (refused.value.fix or "")

    # The healthy skid doses flow-paced: its solution flow follows the water flow while
    # the residual holds, which says nothing of what more solution would do: refused.
    with pytest.raises(ToolError, match="does not follow its dosing flow") as refused:
        what_if(assets, historian, skid, "dosing_flow=1.8", hours=HOURS, now=fault_at)
    assert "record a change of the dosing flow" in (refused.value.fix or "")
    # After the prime was lost: the residual per l/h of solution is its strength over
    # the water flow.
    flow = _of(known, f"{skid_id}.flow")
    residual = _of(known, f"{skid_id}.residual_chlorine")
    low = what_if(assets, historian, skid, "dosing_flow=1.0", hours=HOURS, now=now)
    fits = {f.name: f for f in low.fitted}
    water = historian.latest([inflow])[inflow].value
    assert water is not None
    strength = WaterworksProcess().dosing_p.strength_g_l
    assert fits["contact_tau_s"].value == pytest.approx(tau)
    assert fits["dose_gain"].value == pytest.approx(strength / water, rel=0.3)
    assert 0.0 < fits["demand"].value < 1.0
    high = what_if(assets, historian, skid, "dosing_flow=1.8", hours=HOURS, now=now)
    # More solution, more residual; either is more than the unprimed pump leaves.
    _, low_end, baseline = _end(low, residual)
    assert _end(high, residual)[1] > low_end > baseline
    # Re-primed, the pump delivers its setpoint again: the residual returns into its
    # normal range, near what it was before (the model holds the water flow: a rough
    # figure), while without it the residual stays below the range.
    primed = what_if(assets, historian, skid, "restore_prime", hours=HOURS, now=now)
    normal_low = catalog.tags[residual].eu_low
    assert normal_low is not None
    assert _end(primed, residual)[1] > normal_low > baseline
    assert _end(primed, residual)[1] == pytest.approx(
        before[f"{skid_id}.residual_chlorine"], abs=0.2)
    assert _end(primed, flow)[1] > _end(primed, flow)[0]
    with pytest.raises(InvalidArgumentError, match="not extrapolating") as refused:
        what_if(assets, historian, skid, "dosing_flow=30", hours=HOURS, now=now)
    assert "propose a dosing_flow between" in (refused.value.fix or "")


async def test_kuehlwasser_vessel_without_flows_is_refused_with_the_fix(site: Site) -> None:
    """The expansion vessel has a level and its make-up valve's position, no flow tag,
    and no neighbour a stated direction says feeds it: no size can be fitted, and the
    refusal says what the site file must name."""
    assets, historian, _, known, *_ = await _recorded(site, "kuehlwasser", leg_s=LEG_S / 3)
    vessel = assets.semantics().of_class("tank")[0].name
    tags = assets.semantics().equipment[vessel].tags
    assert "flow" not in {known[t][2] for t in tags}
    level = next(t for t in tags if known[t][2] == "level")
    assert historian.latest([level])[level].value is not None
    with pytest.raises(ToolError) as refused:
        what_if(assets, historian, vessel, "inflow=2", hours=HOURS, now=datetime.now(UTC))
    _refused_for_want_of_an_inlet_flow(refused)
