"""Each test plant starts, browses as its style says, and serves alarms, history and its
fault methods over real OPC UA (a real asyncua client against the kit server)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from asyncua import Client, ua

from agent.settings import SimSettings
from plant.kit.server import KitPlantServer
from plant.kit.server.ids import node_id
from plant.kit.spec import PlantDef
from plant.server.uatypes import std_id
from plant.testplants import all_test_plants

from ..plant_testing import wait_until
from .kit_helpers import Collector, refresh

pytestmark = pytest.mark.asyncio(loop_scope="module")

#: Per plant: a process fault that alarms within a few simulated hours, and its alarm.
ALARMING = {
    "waterworks": ("valve.stuck", "LV-4001", "T-4001.inlet_flow.Low"),
    "kuehlwasser": ("filter.clogging", "Filter_1", "Filter_1.differential_pressure.High"),
    "chillerplant": ("fan.belt_slip", "AHU-1", "AHU-1.airflow.Low"),
}


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=sorted(ALARMING))
async def running(request: pytest.FixtureRequest) -> AsyncIterator[KitPlantServer]:
    """One running test plant per parameter, fast-forwarded, with some history."""
    plant = all_test_plants()[request.param]
    sim = SimSettings(port=0, speed=600.0, history_hours=0.2, history_period_s=10.0)
    async with KitPlantServer(plant, sim, publish_interval_s=0.25) as server:
        yield server


async def _attribute(client: Client, nid: ua.NodeId, attr: ua.AttributeIds) -> object:
    value = (await client.get_node(nid).read_attribute(attr)).Value
    return value.Value if value is not None else None


async def test_the_address_space_follows_the_plants_style(running: KitPlantServer) -> None:
    plant: PlantDef = running.plant
    async with Client(running.endpoint, timeout=10) as client:
        idx = await client.get_namespace_index(plant.namespace_uri)
        for tag in plant.tags:
            nid = node_id(tag.node, idx)
            assert running.node_id(tag.key) == nid
            name = await _attribute(client, nid, ua.AttributeIds.BrowseName)
            assert isinstance(name, ua.QualifiedName) and name.Name == tag.browse_name
            desc = await _attribute(client, nid, ua.AttributeIds.Description)
            assert isinstance(desc, ua.LocalizedText)
            assert (desc.Text or "") == tag.description
            props = {p.Name for p in
                     [await c.read_browse_name()
                      for c in await client.get_node(nid).get_properties()]}
            assert ("EngineeringUnits" in props) == (tag.unit is not None)
            assert ("EURange" in props) == (tag.show_range and tag.data_type == "Double")
        # The browse path below Objects is the plant's folders: flat, deep or per device.
        first = plant.tags[0]
        path = [f"{idx}:{p}" for p in (*first.folder, first.browse_name)]
        found = await client.nodes.objects.get_child(path)
        assert found.nodeid == node_id(first.node, idx)
    numeric = [isinstance(t.node, int) for t in plant.tags]
    assert all(numeric) if plant.numeric_base is not None else not any(numeric)


async def test_history_is_prefilled_and_served(running: KitPlantServer) -> None:
    key = running.plant.tags[0].key
    async with Client(running.endpoint, timeout=10) as client:
        node = client.get_node(running.node_id(key))
        end = datetime.now(UTC)
        values = await node.read_raw_history(end - timedelta(minutes=10), end)
    assert len(values) >= 50
    assert len(running.history(key)) >= len(values)


async def test_a_fault_raises_a_condition_replayed_and_kept_in_event_history(
    running: KitPlantServer,
) -> None:
    fault, target, alarm = ALARMING[running.plant.name]
    source = running.node_id(alarm.rsplit(".", 1)[0])
    collector = Collector()
    async with Client(running.endpoint, timeout=10) as client:
        idx = await client.get_namespace_index(running.plant.namespace_uri)
        alarm_type = client.get_node(std_id(ua.ObjectIds.AlarmConditionType))
        sub = await client.create_subscription(50, collector)
        await sub.subscribe_events(client.nodes.server, alarm_type)
        await sub.subscribe_events(client.nodes.server,
                                   client.get_node(std_id(ua.ObjectIds.RefreshEndEventType)))
        sim = await client.nodes.objects.get_child(f"{idx}:Simulation")
        listed = json.loads(await sim.call_method(f"{idx}:ListFaults"))
        assert {"instrument.drift", "instrument.stuck", fault} <= {f["name"] for f in listed}
        with pytest.raises(ua.UaStatusCodeError):
            await sim.call_method(f"{idx}:InjectFault", "no.such_fault", target)
        await sim.call_method(f"{idx}:InjectFault", fault, target)

        async def alarmed() -> bool:
            return alarm in running.active_alarms()

        try:
            assert await wait_until(alarmed, timeout_s=60.0)
            replayed = await refresh(client, collector, sub.subscription_id)
            assert any(e.SourceNode == source and e.Retain for e in replayed)
            now = datetime.now(UTC)
            events: list[Any] = await client.nodes.server.read_event_history(
                now - timedelta(minutes=5), now + timedelta(seconds=1), evtypes=alarm_type)
            assert any(e.SourceNode == source and e.Retain is True for e in events)
        finally:
            await sim.call_method(f"{idx}:ClearFault", "*")
