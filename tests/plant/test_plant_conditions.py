"""OPC UA Part 9 on the demo plant: the condition methods over a real client, and the
shelving state machine as logic."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asyncua import Client, ua
from asyncua.common.node import Node

from plant.alarms import AlarmTransition
from plant.server import DemoPlantServer
from plant.server.conditions import Condition, ConditionBook
from plant.server.uatypes import std_id

from .plant_testing import wait_until

CONDITION = "P-101.Vibration.High"
ACK = std_id(ua.ObjectIds.AcknowledgeableConditionType_Acknowledge)
CONFIRM = std_id(ua.ObjectIds.AcknowledgeableConditionType_Confirm)
COMMENT = std_id(ua.ObjectIds.ConditionType_AddComment)
TIMED = std_id(ua.ObjectIds.ShelvedStateMachineType_TimedShelve)
ONE_SHOT = std_id(ua.ObjectIds.ShelvedStateMachineType_OneShotShelve)
UNSHELVE = std_id(ua.ObjectIds.ShelvedStateMachineType_Unshelve)


def _bytes(event_id: bytes | None) -> ua.Variant:
    assert event_id is not None
    return ua.Variant(event_id, ua.VariantType.ByteString)


async def _read(node: Node, *path: str) -> object:
    return await (await node.get_child([f"0:{p}" for p in path])).read_value()


async def _status(call: object) -> str:
    try:
        await call  # type: ignore[misc]
    except ua.UaStatusCodeError as exc:
        return ua.StatusCode(exc.code).name
    return "Good"


class TestMethodsOverOpcUa:
    pytestmark = pytest.mark.asyncio(loop_scope="package")

    async def test_acknowledge_confirm_comment_read_back(
        self, demo_plant: DemoPlantServer, plant_client: Client
    ) -> None:
        await demo_plant.force_alarm(CONDITION, active=True)
        try:
            node = plant_client.get_node(demo_plant.condition_node_id(CONDITION))
            state = demo_plant.conditions[CONDITION]
            raised = state.last_event_id
            assert await _read(node, "AckedState", "Id") is False
            assert await _read(node, "Retain") is True
            assert await _read(node, "EventId") == raised

            assert await _status(node.call_method(CONFIRM, _bytes(raised), ua.LocalizedText(
                "too early"))) == "BadInvalidState"
            unknown = await _status(node.call_method(ACK, _bytes(b"not-an-event"),
                                                     ua.LocalizedText("")))
            assert unknown == "BadEventIdUnknown"
            assert await _status(node.call_method(ACK, _bytes(raised), ua.LocalizedText(
                "seen, checking the pump"))) == "Good"
            assert await _read(node, "AckedState", "Id") is True
            assert await _read(node, "Comment") == ua.LocalizedText("seen, checking the pump")
            # Another client was quicker: the same event acknowledged again.
            again = await _status(node.call_method(ACK, _bytes(raised), ua.LocalizedText("")))
            assert again == "BadConditionBranchAlreadyAcked"

            assert await _status(node.call_method(COMMENT, _bytes(state.last_event_id),
                                                  ua.LocalizedText("bearing noisy"))) == "Good"
            assert await _read(node, "Comment") == ua.LocalizedText("bearing noisy")
            assert await _status(node.call_method(CONFIRM, _bytes(state.last_event_id),
                                                  ua.LocalizedText(""))) == "Good"
            assert await _read(node, "ConfirmedState", "Id") is True
            assert await _read(node, "Retain") is True  # still active
        finally:
            await demo_plant.force_alarm(CONDITION, active=False)
        assert await _read(node, "Retain") is False  # inactive, acked, confirmed

    async def test_shelving_state_machine_and_auto_unshelve(
        self, demo_plant: DemoPlantServer, plant_client: Client
    ) -> None:
        node = plant_client.get_node(demo_plant.condition_node_id(CONDITION))
        shelving = await node.get_child(["0:ShelvingState"])
        limit_ms = demo_plant.conditions.max_time_shelved.total_seconds() * 1000
        assert await _read(node, "MaxTimeShelved") == limit_ms
        assert await _status(shelving.call_method(UNSHELVE)) == "BadConditionNotShelved"
        too_long = ua.Variant(limit_ms + 1, ua.VariantType.Double)
        assert await _status(shelving.call_method(TIMED, too_long)) == (
            "BadShelvingTimeOutOfRange")
        assert await _status(shelving.call_method(TIMED, ua.Variant(
            1200.0, ua.VariantType.Double))) == "Good"
        assert await _read(shelving, "CurrentState") == ua.LocalizedText("TimedShelved")
        assert await _read(shelving, "CurrentState", "Id") == std_id(
            ua.ObjectIds.ShelvedStateMachineType_TimedShelved)
        assert await _read(node, "SuppressedOrShelved") is True
        first = await _read(shelving, "UnshelveTime")
        assert isinstance(first, float) and 0 < first <= 1200
        # The timer is not reset by a second TimedShelve.
        assert await _status(shelving.call_method(TIMED, ua.Variant(
            1000.0, ua.VariantType.Double))) == "BadConditionAlreadyShelved"

        async def counted_down() -> bool:
            left = await _read(shelving, "UnshelveTime")
            return isinstance(left, float) and left < first

        assert await wait_until(counted_down, timeout_s=5.0, poll_s=0.1)

        async def unshelved() -> bool:
            return await _read(shelving, "CurrentState") == ua.LocalizedText("Unshelved")

        assert await wait_until(unshelved, timeout_s=10.0, poll_s=0.1)
        assert await _read(node, "SuppressedOrShelved") is False
        assert "automatically" in demo_plant.conditions[CONDITION].last_change

    async def test_one_shot_shelve_ends_at_return_to_normal(
        self, demo_plant: DemoPlantServer, plant_client: Client
    ) -> None:
        name = "P-101.FlowRate.Low"
        node = plant_client.get_node(demo_plant.condition_node_id(name))
        await demo_plant.force_alarm(name, active=True)
        # The shelving methods may also be called on the ConditionId itself.
        assert await _status(node.call_method(ONE_SHOT)) == "Good"
        shelving = await node.get_child(["0:ShelvingState"])
        assert await _status(shelving.call_method(ONE_SHOT)) == "BadConditionAlreadyShelved"
        assert await _read(shelving, "CurrentState") == ua.LocalizedText("OneShotShelved")
        await demo_plant.force_alarm(name, active=False)
        assert await _read(shelving, "CurrentState") == ua.LocalizedText("Unshelved")
        state = demo_plant.conditions[name]
        await node.call_method(ACK, _bytes(state.last_event_id), ua.LocalizedText(""))
        await node.call_method(CONFIRM, _bytes(state.last_event_id), ua.LocalizedText(""))

    async def test_every_change_is_an_event_in_the_history(
        self, demo_plant: DemoPlantServer, plant_client: Client
    ) -> None:
        name = "C-101.OilPressure.Low"
        start = datetime.now(UTC) - timedelta(seconds=1)
        await demo_plant.force_alarm(name, active=True)
        node = plant_client.get_node(demo_plant.condition_node_id(name))
        state = demo_plant.conditions[name]
        await node.call_method(ACK, _bytes(state.last_event_id), ua.LocalizedText("ack"))
        await (await node.get_child(["0:ShelvingState"])).call_method(
            TIMED, ua.Variant(60_000.0, ua.VariantType.Double))
        await (await node.get_child(["0:ShelvingState"])).call_method(UNSHELVE)
        await demo_plant.force_alarm(name, active=False)
        await asyncio.sleep(0.1)
        events: list[Any] = await plant_client.nodes.server.read_event_history(
            start, datetime.now(UTC) + timedelta(seconds=1),
            evtypes=plant_client.get_node(std_id(ua.ObjectIds.AlarmConditionType)))
        mine = [e for e in events if e.SourceName == name.rsplit(".", 1)[0]
                and e.NodeId == demo_plant.condition_node_id(name)]
        acked = [getattr(e, "AckedState/Id") for e in mine]
        assert len(mine) == 5 and acked == [False, True, True, True, True]
        assert len({e.EventId for e in mine}) == 5
        await node.call_method(CONFIRM, _bytes(state.last_event_id), ua.LocalizedText(""))

    async def test_disable_is_never_offered(
        self, demo_plant: DemoPlantServer, plant_client: Client
    ) -> None:
        node = plant_client.get_node(demo_plant.condition_node_id(CONDITION))
        disable = await _status(node.call_method(std_id(ua.ObjectIds.ConditionType_Disable)))
        assert disable == "BadNothingToDo"


def _book(now: list[datetime]) -> ConditionBook:
    c = Condition(name="T.X.High", tag="T.X", limit="High", severity=700, limit_value=1.0,
                  unit="bar")
    return ConditionBook([c], max_time_shelved=timedelta(minutes=30), clock=lambda: now[0])


def _transition(active: bool) -> AlarmTransition:
    return AlarmTransition("T.X", "High", active, 1.2 if active else 0.9, 1.0, "bar", 700)


def test_episode_event_ids_and_retain() -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    book = _book(now)
    c = book.apply(_transition(True), now[0])
    c.remember(b"e1")
    assert c.retain and not c.acked and not c.confirmed
    book.apply(_transition(False), now[0])
    c.remember(b"e2")
    assert c.retain  # back to normal, not yet acknowledged
    assert book.acknowledge("T.X.High", b"e1", "") == ua.StatusCodes.Good
    assert book.confirm("T.X.High", b"e2", "done") == ua.StatusCodes.Good
    assert not c.retain and c.comment == "done"
    book.apply(_transition(True), now[0])  # a new episode forgets the old event ids
    assert book.acknowledge("T.X.High", b"e2", "") == ua.StatusCodes.BadEventIdUnknown


def test_timed_shelve_limits_and_expiry() -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    book = _book(now)
    assert book.timed_shelve("T.X.High", 0) == ua.StatusCodes.BadShelvingTimeOutOfRange
    assert book.timed_shelve("T.X.High", 30 * 60_000 + 1) == (
        ua.StatusCodes.BadShelvingTimeOutOfRange)
    assert book.timed_shelve("T.X.High", 10 * 60_000) == ua.StatusCodes.Good
    assert book["T.X.High"].unshelve_time_ms(now[0]) == 600_000
    # TimedShelved -> OneShotShelved is a transition Part 9 allows.
    assert book.one_shot_shelve("T.X.High") == ua.StatusCodes.Good
    now[0] += timedelta(minutes=31)
    assert [c.name for c in book.expire_shelves(now[0])] == ["T.X.High"]
    assert book["T.X.High"].shelving == "Unshelved"
    assert book.unshelve("T.X.High") == ua.StatusCodes.BadConditionNotShelved
