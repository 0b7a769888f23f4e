"""Limit alarms as OPC UA condition events, seen by a real asyncua client."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asyncua import Client, ua

from plant.server import DemoPlantServer
from plant.server.uatypes import plant_id, std_id

from .plant_testing import wait_until

pytestmark = pytest.mark.asyncio(loop_scope="package")

TAG = "M-101.Current"


class Collector:
    """asyncua subscription handler keeping every event it is given."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def event_notification(self, event: Any) -> None:
        self.events.append(event)

    def alarms(self, source: str) -> list[Any]:
        return [e for e in self.events if getattr(e, "SourceName", None) == source]

    def refresh_ends(self) -> int:
        end = std_id(ua.ObjectIds.RefreshEndEventType)
        return sum(1 for e in self.events if getattr(e, "EventType", None) == end)


async def refresh(client: Client, collector: Collector, sub_id: int | None) -> list[Any]:
    """Call ConditionRefresh; return the condition events it replays."""
    before, ends = len(collector.events), collector.refresh_ends()
    await client.nodes.server.call_method(
        std_id(ua.ObjectIds.ConditionType_ConditionRefresh),
        ua.Variant(sub_id, ua.VariantType.UInt32),
    )

    async def ended() -> bool:
        return collector.refresh_ends() > ends

    assert await wait_until(ended, timeout_s=10.0)
    refresh_types = {
        std_id(ua.ObjectIds.RefreshStartEventType),
        std_id(ua.ObjectIds.RefreshEndEventType),
    }
    return [e for e in collector.events[before:] if e.EventType not in refresh_types]


async def test_alarm_event_on_limit_crossing_and_condition_refresh(
    demo_plant: DemoPlantServer, plant_client: Client, plant_ns: int
) -> None:
    collector = Collector()
    sub = await plant_client.create_subscription(50, collector)
    try:
        alarm_type = plant_client.get_node(std_id(ua.ObjectIds.AlarmConditionType))
        await sub.subscribe_events(plant_client.nodes.server, alarm_type)
        await sub.subscribe_events(
            plant_client.nodes.server,
            plant_client.get_node(std_id(ua.ObjectIds.RefreshEndEventType)),
        )
        before = await refresh(plant_client, collector, sub.subscription_id)
        assert [e for e in before if e.SourceName == TAG] == []

        sim = plant_client.get_node(plant_id("Simulation", plant_ns))
        await sim.call_method(ua.QualifiedName("InjectFault", plant_ns), "conveyor_jam", "CV-101")

        async def raised() -> bool:
            return any(e.Retain for e in collector.alarms(TAG))

        assert await wait_until(raised, timeout_s=20.0)
        event = collector.alarms(TAG)[0]
        assert event.Retain is True and getattr(event, "ActiveState/Id") is True
        assert event.SourceNode == plant_id(TAG, plant_ns)
        assert event.NodeId == plant_id(f"{TAG}.High", plant_ns)  # the ConditionId
        assert event.Severity >= 500 and "above high limit" in event.Message.Text
        assert event.EventType == std_id(ua.ObjectIds.ExclusiveLevelAlarmType)

        replayed = await refresh(plant_client, collector, sub.subscription_id)
        mine = [e for e in replayed if e.SourceName == TAG]
        assert len(mine) == 1 and mine[0].Retain and mine[0].NodeId == event.NodeId
        assert f"{TAG}.High" in demo_plant.active_alarms()

        now = datetime.now(UTC)
        history: list[Any] = await plant_client.nodes.server.read_event_history(
            now - timedelta(minutes=5), now + timedelta(seconds=1), evtypes=alarm_type
        )
        stored = [e for e in history if e.SourceName == TAG]
        assert stored and stored[0].NodeId == event.NodeId and stored[0].Retain is True

        await sim.call_method(ua.QualifiedName("ClearFault", plant_ns), "CV-101")

        async def returned() -> bool:
            return any(getattr(e, "ActiveState/Id") is False for e in collector.alarms(TAG))

        assert await wait_until(returned, timeout_s=20.0)
        back = next(e for e in collector.alarms(TAG) if getattr(e, "ActiveState/Id") is False)
        # Part 9: back to normal but not yet acknowledged, so still retained.
        assert back.Retain is True and back.NodeId == event.NodeId
        assert getattr(back, "AckedState/Id") is False
        replayed = await refresh(plant_client, collector, sub.subscription_id)
        mine = [e for e in replayed if e.SourceName == TAG]
        assert len(mine) == 1 and getattr(mine[0], "ActiveState/Id") is False

        condition = plant_client.get_node(event.NodeId)
        comment = ua.LocalizedText("jam cleared on the line")
        await condition.call_method(std_id(ua.ObjectIds.AcknowledgeableConditionType_Acknowledge),
                                    ua.Variant(back.EventId, ua.VariantType.ByteString), comment)
        latest = demo_plant.conditions[f"{TAG}.High"].last_event_id
        await condition.call_method(std_id(ua.ObjectIds.AcknowledgeableConditionType_Confirm),
                                    ua.Variant(latest, ua.VariantType.ByteString), comment)

        async def released() -> bool:
            return any(e.Retain is False for e in collector.alarms(TAG))

        assert await wait_until(released, timeout_s=20.0)
        await asyncio.sleep(0.2)
        replayed = await refresh(plant_client, collector, sub.subscription_id)
        assert [e for e in replayed if e.SourceName == TAG] == []
    finally:
        demo_plant.model.clear("*")
        await sub.delete()
        await demo_plant.wait_ticks(2)


async def test_equipment_object_also_notifies(
    demo_plant: DemoPlantServer, plant_client: Client, plant_ns: int
) -> None:
    collector = Collector()
    sub = await plant_client.create_subscription(50, collector)
    try:
        cooler = plant_client.get_node(plant_id("HX-101", plant_ns))
        await sub.subscribe_events(
            cooler, plant_client.get_node(std_id(ua.ObjectIds.AlarmConditionType))
        )
        demo_plant.model.inject("cooling_loss", "HX-101")

        async def raised() -> bool:
            return bool(collector.alarms("HX-101.HotOutletTemperature"))

        assert await wait_until(raised, timeout_s=20.0)
    finally:
        demo_plant.model.clear("*")
        await sub.delete()
        await demo_plant.wait_ticks(2)
