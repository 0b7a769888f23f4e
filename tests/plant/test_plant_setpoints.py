"""Writable setpoints over real OPC UA: clients write them, the controllers follow, all
other variables stay read-only, values the process cannot take are put back."""

from __future__ import annotations

import pytest
from asyncua import Client, ua
from asyncua.ua.uaerrors import BadUserAccessDenied

from agent.errors import UsageError
from plant.server import NAMESPACE_URI, DemoPlantServer
from plant.server.uatypes import plant_id
from plant.tags import SETPOINT_TAGS, TAGS

from .plant_testing import sim_settings_for_tests, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="package")

SETPOINT = "HX-101.OutletTemperatureSetpoint"


async def test_the_setpoints_are_the_ones_the_write_policy_names() -> None:
    assert SETPOINT_TAGS == (
        "T-101.LevelSetpoint", "HX-101.OutletTemperatureSetpoint", "C-101.PressureSetpoint"
    )
    assert len(TAGS) == 47


async def test_only_setpoints_are_writable(plant_client: Client, plant_ns: int) -> None:
    for spec in TAGS:
        node = plant_client.get_node(plant_id(spec.name, plant_ns))
        access = await node.read_attribute(ua.AttributeIds.AccessLevel)
        user = await node.read_attribute(ua.AttributeIds.UserAccessLevel)
        assert access.Value is not None and user.Value is not None
        for level in (access.Value.Value, user.Value.Value):
            assert bool(level & ua.AccessLevel.CurrentWrite.mask) is spec.writable, spec.name
            assert level & ua.AccessLevel.CurrentRead.mask
    flow = plant_client.get_node(plant_id("P-101.FlowRate", plant_ns))
    with pytest.raises(BadUserAccessDenied):
        await flow.write_value(ua.DataValue(ua.Variant(1.0, ua.VariantType.Double)))


async def test_a_written_setpoint_moves_the_process(
    demo_plant: DemoPlantServer, plant_client: Client, plant_ns: int
) -> None:
    node = plant_client.get_node(plant_id(SETPOINT, plant_ns))
    outlet = plant_client.get_node(plant_id("HX-101.HotOutletTemperature", plant_ns))
    assert await node.read_value() == 35.0
    try:
        await node.write_value(ua.DataValue(ua.Variant(32.0, ua.VariantType.Double)))
        await demo_plant.wait_ticks(2)
        assert await node.read_value() == 32.0  # the plant does not overwrite a write
        assert demo_plant.model.setpoints()[SETPOINT] == 32.0

        async def cooled() -> bool:
            return abs(float(await outlet.read_value()) - 32.0) < 0.6

        assert await wait_until(cooled, timeout_s=20.0)
    finally:
        await node.write_value(ua.DataValue(ua.Variant(35.0, ua.VariantType.Double)))
        await demo_plant.wait_ticks(2)
    assert demo_plant.model.setpoints()[SETPOINT] == 35.0


async def test_out_of_range_writes_are_put_back(
    demo_plant: DemoPlantServer, plant_client: Client, plant_ns: int
) -> None:
    node = plant_client.get_node(plant_id("C-101.PressureSetpoint", plant_ns))
    await node.write_value(ua.DataValue(ua.Variant(12.0, ua.VariantType.Double)))
    await demo_plant.wait_ticks(2)
    assert await node.read_value() == 7.0
    assert demo_plant.model.setpoints()["C-101.PressureSetpoint"] == 7.0


async def test_operator_notes_are_read_only_strings_only_when_asked_for() -> None:
    async with DemoPlantServer(sim_settings_for_tests(), operator_notes=("P-101",)) as plant:
        await plant.set_operator_note("P-101", "seal flush checked")
        async with Client(plant.endpoint, timeout=10) as client:
            ns = await client.get_namespace_index(NAMESPACE_URI)
            note = client.get_node(plant_id("P-101.OperatorNote", ns))
            assert await note.read_value() == "seal flush checked"
            with pytest.raises(BadUserAccessDenied):
                await note.write_value(ua.DataValue(ua.Variant("x", ua.VariantType.String)))
        with pytest.raises(UsageError):
            await plant.set_operator_note("C-101", "no note variable here")
