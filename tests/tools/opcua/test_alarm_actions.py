"""The alarm action functions against real servers: the demo plant (OPC UA Part 9) and a
plain server whose conditions have no methods. Every result is read back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio
from asyncua import Client, ua

from agent.errors import AlarmActionError, AlarmMethodsUnsupported, UnknownNameError
from agent.settings import SimSettings
from plant.server import DemoPlantServer
from tools.opcua.alarm_actions import perform
from tools.opcua.browse import browse_catalog
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.conditions import condition_states, read_condition
from tools.opcua.nodeids import standard

from .opcua_helpers import make_settings
from .uatestserver import PlantHandle

pytestmark = pytest.mark.asyncio(loop_scope="module")

ALARM = "P-101.Vibration.High"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo() -> AsyncIterator[DemoPlantServer]:
    """A demo plant whose MaxTimeShelved is 10 minutes."""
    sim = SimSettings(port=0, speed=1.0, history_hours=0.05)
    async with DemoPlantServer(sim, publish_interval_s=0.25,
                               max_time_shelved=timedelta(minutes=10)) as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo_conn(demo: DemoPlantServer, tmp_path_factory: pytest.TempPathFactory
                    ) -> AsyncIterator[tuple[OpcUaConnection, Catalog]]:
    settings = make_settings(tmp_path_factory.mktemp("alarms"), demo.endpoint)
    async with OpcUaConnection.from_settings(settings) as conn:
        yield conn, await browse_catalog(conn)


async def test_acknowledge_reads_back_and_a_second_client_was_quicker(
    demo: DemoPlantServer, demo_conn: tuple[OpcUaConnection, Catalog]
) -> None:
    conn, catalog = demo_conn
    await demo.force_alarm(ALARM, active=True)
    shown = (await read_condition(conn, catalog, demo_id(demo, ALARM, conn))).event_id
    # Another client acknowledges first, with the same event.
    async with Client(demo.endpoint) as other:
        node = other.get_node(demo.condition_node_id(ALARM))
        await node.call_method(
            standard(ua.ObjectIds.AcknowledgeableConditionType_Acknowledge),
            ua.Variant(bytes.fromhex(shown or ""), ua.VariantType.ByteString),
            ua.LocalizedText("on it"))
    late = await perform(conn, catalog, "acknowledge", ALARM, event_id=shown, comment="me too")
    assert late.outcome == "already_done" and "another client" in late.summary
    assert late.state.acked is True and late.state.comment == "on it"

    comment = await perform(conn, catalog, "comment", ALARM, comment="bearing noisy")
    assert comment.outcome == "done" and comment.read_back
    assert comment.state.comment == "bearing noisy"
    assert comment.event_id == late.state.event_id  # commented on the state it had
    confirmed = await perform(conn, catalog, "confirm", ALARM)
    assert confirmed.state.confirmed is True
    await demo.force_alarm(ALARM, active=False)


async def test_timed_shelve_limits_and_auto_unshelve(
    demo: DemoPlantServer, demo_conn: tuple[OpcUaConnection, Catalog]
) -> None:
    conn, catalog = demo_conn
    name = "P-101.FlowRate.Low"  # quiet: found through HasCondition from its tag
    with pytest.raises(AlarmActionError, match=r"MaxTimeShelved .* 10 min"):
        await perform(conn, catalog, "timed_shelve", name, minutes=20)
    shelved = await perform(conn, catalog, "timed_shelve", name, minutes=0.02)
    assert shelved.state.shelving == "TimedShelved"
    assert shelved.state.unshelve_in_s is not None and 0 < shelved.state.unshelve_in_s <= 1.2
    with pytest.raises(AlarmActionError, match="already shelved"):
        await perform(conn, catalog, "timed_shelve", name, minutes=5)
    for _ in range(40):
        await asyncio.sleep(0.1)
        state = await read_condition(conn, catalog, shelved.condition_id)
        if state.shelving == "Unshelved":
            break
    assert state.shelving == "Unshelved"
    again = await perform(conn, catalog, "unshelve", name)
    assert again.outcome == "already_done" and "not shelved" in again.summary


async def test_unknown_condition_names_close_ones(
    demo: DemoPlantServer, demo_conn: tuple[OpcUaConnection, Catalog]
) -> None:
    conn, catalog = demo_conn
    await demo.force_alarm("C-101.OilPressure.Low", active=True)
    with pytest.raises(UnknownNameError) as err:
        await perform(conn, catalog, "acknowledge", "C-101.OilPresure.Low")
    assert "C-101.OilPressure.Low" in err.value.suggestions
    assert [s.name for s in await condition_states(conn, catalog)
            if s.name == "C-101.OilPressure.Low"]


async def test_a_server_without_the_methods_is_named(
    plant: PlantHandle, conn: OpcUaConnection, catalog: Catalog
) -> None:
    await plant.alarm("PU-1.FlowRate", "High", active=True, acked=False)
    with pytest.raises(AlarmMethodsUnsupported, match="does not implement Acknowledge"):
        await perform(conn, catalog, "acknowledge", "PU-1.FlowRate")
    with pytest.raises(AlarmMethodsUnsupported, match="no shelving state"):
        await perform(conn, catalog, "timed_shelve", "PU-1.FlowRate", minutes=5)
    state = (await condition_states(conn, catalog))[0]
    assert state.acked is False  # nothing pretended: still unacknowledged
    await plant.alarm("PU-1.FlowRate", "High", active=False)


def demo_id(demo: DemoPlantServer, name: str, conn: OpcUaConnection) -> str:
    return conn.expanded(demo.condition_node_id(name))


