"""The demo plant over real OPC UA: address space, methods, faults, history."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from asyncua import Client, ua
from asyncua.ua.uaerrors import BadInvalidArgument

from agent.errors import UsageError
from plant.faults import fault_registry
from plant.server import DemoPlantServer
from plant.server.uatypes import plant_id, std_id
from plant.tags import TAGS, tags_by_name
from plant.units import UNECE_NAMESPACE

from .plant_testing import read_tags, sim_settings_for_tests, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="package")


@pytest_asyncio.fixture(autouse=True, loop_scope="package")
async def _clear_faults(demo_plant: DemoPlantServer) -> AsyncIterator[None]:
    yield
    demo_plant.model.clear("*")
    await demo_plant.wait_ticks(2)  # half an hour of plant time to settle back to normal


async def call(client: Client, ns: int, method: str, *args: str) -> str:
    sim = client.get_node(plant_id("Simulation", ns))
    return str(await sim.call_method(ua.QualifiedName(method, ns), *args))


async def test_endpoint_is_loopback_with_the_real_port(demo_plant: DemoPlantServer) -> None:
    url = demo_plant.endpoint
    assert url.startswith("opc.tcp://127.0.0.1:") and url.endswith("/plantagent/")
    assert int(url.split(":")[2].split("/")[0]) > 0


async def test_address_space_is_browsable_with_units_ranges_descriptions(
    plant_client: Client, plant_ns: int
) -> None:
    ns = plant_ns
    site = await plant_client.nodes.objects.get_child(f"{ns}:DemoSite")
    line = await site.get_child([f"{ns}:ProcessArea", f"{ns}:Line1"])
    equipment = await line.get_children(nodeclassmask=ua.NodeClass.Object)
    names = sorted([(await e.read_browse_name()).Name for e in equipment])
    assert names == sorted(["T-101", "F-101", "P-101", "HX-101", "C-101", "CV-101", "M-101"])
    specs = tags_by_name()
    seen = []
    for eq in equipment:
        eq_name = (await eq.read_browse_name()).Name
        assert await eq.read_event_notifier() == {
            ua.EventNotifier.SubscribeToEvents,
            ua.EventNotifier.HistoryRead,
        }
        for var in await eq.get_children(nodeclassmask=ua.NodeClass.Variable):
            tag = f"{eq_name}.{(await var.read_browse_name()).Name}"
            spec = specs[tag]
            assert await var.read_type_definition() == std_id(ua.ObjectIds.AnalogItemType)
            assert await var.read_data_type() == std_id(ua.ObjectIds.Double)
            assert (await var.read_description()).Text == spec.description
            eu = await (await var.get_child("0:EngineeringUnits")).read_value()
            assert eu.NamespaceUri == UNECE_NAMESPACE and eu.UnitId > 0 and eu.DisplayName.Text
            rng = await (await var.get_child("0:EURange")).read_value()
            assert (rng.Low, rng.High) == (spec.low, spec.high)
            assert await var.read_attribute(ua.AttributeIds.Historizing)
            seen.append(tag)
    assert len(seen) >= 40 and set(seen) == set(specs)


async def test_simulation_object_holds_only_methods(plant_client: Client, plant_ns: int) -> None:
    sim = await plant_client.nodes.objects.get_child(f"{plant_ns}:Simulation")
    children = await sim.get_children()
    names = {(await c.read_browse_name()).Name for c in children}
    assert names == {"InjectFault", "ClearFault", "ListFaults"}
    assert {await c.read_node_class() for c in children} == {ua.NodeClass.Method}


async def test_healthy_values_are_inside_their_ranges(plant_client: Client, plant_ns: int) -> None:
    values = await read_tags(plant_client, plant_ns, [t.name for t in TAGS])
    outside = [t.name for t in TAGS if not t.low <= values[t.name] <= t.high]
    assert outside == []


async def test_history_is_prefilled(
    demo_plant: DemoPlantServer, plant_client: Client, plant_ns: int
) -> None:
    node = plant_client.get_node(plant_id("P-101.FlowRate", plant_ns))
    now = datetime.now(UTC)
    points = await node.read_raw_history(now - timedelta(hours=2), now)
    hours, period = demo_plant.sim.history_hours, demo_plant.sim.history_period_s
    assert len(points) >= hours * 3600 / period  # the pre-fill, plus live points
    stamps = [p.SourceTimestamp or now for p in points]
    assert stamps == sorted(stamps)
    assert stamps[0] <= now - timedelta(hours=hours) + timedelta(minutes=1)
    spec = tags_by_name()["P-101.FlowRate"]
    values = [float(p.Value.Value) for p in points if p.Value is not None]
    assert len(values) == len(points) and all(spec.low <= v <= spec.high for v in values)
    assert len(set(values)) > len(values) // 2  # noise, not a flat line


async def test_list_inject_and_clear_through_the_methods(
    plant_client: Client, plant_ns: int
) -> None:
    catalogue = json.loads(await call(plant_client, plant_ns, "ListFaults"))
    assert {f["name"] for f in catalogue} == set(fault_registry())
    assert all(
        {"name", "equipment_classes", "equipment", "description"} <= set(f) for f in catalogue
    )
    msg = await call(plant_client, plant_ns, "InjectFault", "bearing_wear", "C-101")
    assert "bearing_wear" in msg and "C-101" in msg
    active = {
        f["name"]: f["active"] for f in json.loads(await call(plant_client, plant_ns, "ListFaults"))
    }
    assert [a["equipment"] for a in active["bearing_wear"]] == ["C-101"]
    msg = await call(plant_client, plant_ns, "ClearFault", "C-101")
    assert msg.startswith("cleared 1 fault")
    active = {
        f["name"]: f["active"] for f in json.loads(await call(plant_client, plant_ns, "ListFaults"))
    }
    assert active["bearing_wear"] == []


@pytest.mark.parametrize(
    "args",
    [("bearing_waer", "P-101"), ("bearing_wear", "P-999"), ("bearing_wear", "HX-101")],
)
async def test_bad_fault_or_equipment_is_refused(
    plant_client: Client, plant_ns: int, args: tuple[str, str]
) -> None:
    with pytest.raises(BadInvalidArgument):
        await call(plant_client, plant_ns, "InjectFault", *args)


async def test_clear_unknown_equipment_is_refused(plant_client: Client, plant_ns: int) -> None:
    with pytest.raises(BadInvalidArgument):
        await call(plant_client, plant_ns, "ClearFault", "XX-1")


Check = Callable[[dict[str, float]], bool]

#: Representative faults, what a client reading the server must see, and the tags to read.
VISIBLE: list[tuple[str, str, list[str], Check]] = [
    (
        "bearing_wear",
        "P-101",
        ["P-101.Vibration", "P-101.BearingTemperature"],
        lambda v: v["P-101.Vibration"] > 4.5 and v["P-101.BearingTemperature"] > 60,
    ),
    (
        "filter_clogging",
        "F-101",
        ["F-101.DifferentialPressure", "P-101.FlowRate"],
        lambda v: v["F-101.DifferentialPressure"] > 45 and v["P-101.FlowRate"] < 30.5,
    ),
    (
        "cooling_loss",
        "HX-101",
        ["HX-101.HotOutletTemperature", "HX-101.CoolantFlow"],
        lambda v: v["HX-101.HotOutletTemperature"] > 40 and v["HX-101.CoolantFlow"] < 15,
    ),
    (
        "conveyor_jam",
        "CV-101",
        ["M-101.Current", "CV-101.BeltSpeed"],
        lambda v: v["M-101.Current"] > 11 and v["CV-101.BeltSpeed"] < 1.0,
    ),
    (
        "compressor_valve_leak",
        "C-101",
        ["C-101.DischargeTemperature", "C-101.DischargePressure"],
        lambda v: v["C-101.DischargeTemperature"] > 92 and v["C-101.DischargePressure"] < 6.6,
    ),
    (
        "feed_valve_stuck",
        "T-101",
        ["T-101.Level", "T-101.InletFlow"],
        lambda v: v["T-101.Level"] < 35 and v["T-101.InletFlow"] < 15,
    ),
]


@pytest.mark.parametrize(("fault", "target", "tags", "check"), VISIBLE, ids=[v[0] for v in VISIBLE])
async def test_fault_becomes_visible_to_a_client(
    plant_client: Client, plant_ns: int, fault: str, target: str, tags: list[str], check: Check
) -> None:
    assert not check(await read_tags(plant_client, plant_ns, tags))
    await call(plant_client, plant_ns, "InjectFault", fault, target)

    async def shows() -> bool:
        return check(await read_tags(plant_client, plant_ns, tags))

    assert await wait_until(shows), f"{fault} did not show in {tags}"


async def test_stuck_sensor_is_frozen_for_a_client_while_others_move(
    demo_plant: DemoPlantServer, plant_client: Client, plant_ns: int
) -> None:
    await call(plant_client, plant_ns, "InjectFault", "stuck_sensor", "P-101.FlowRate")
    readings = []
    for _ in range(4):
        await demo_plant.wait_ticks(2)
        readings.append(await read_tags(plant_client, plant_ns, ["P-101.FlowRate", "P-101.Power"]))
    assert len({r["P-101.FlowRate"] for r in readings}) == 1
    assert len({r["P-101.Power"] for r in readings}) == 4


async def test_sensor_drift_shows_as_an_offset_from_the_true_value(
    demo_plant: DemoPlantServer, plant_client: Client, plant_ns: int
) -> None:
    await call(plant_client, plant_ns, "InjectFault", "sensor_drift", "T-101")
    span = tags_by_name()["T-101.Level"].span

    async def drifted() -> bool:
        reading = (await read_tags(plant_client, plant_ns, ["T-101.Level"]))["T-101.Level"]
        return reading - demo_plant.model.true_values()["T-101.Level"] > 0.15 * span

    assert await wait_until(drifted)


async def test_stop_closes_the_port_and_is_idempotent() -> None:
    server = DemoPlantServer(sim_settings_for_tests(history_hours=0.0))
    await server.start()
    endpoint = server.endpoint
    client = Client(endpoint, timeout=5)
    async with client:
        assert await client.nodes.objects.get_child(f"{server.namespace_index}:DemoSite")
    await server.stop()
    await server.stop()
    with pytest.raises(OSError):
        async with Client(endpoint, timeout=2):
            pass
    with pytest.raises(UsageError, match="not running"):
        _ = server.endpoint
