"""Browse into our catalog, batched reads, status handling and the read tools."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from asyncua import ua

from agent.errors import InvalidArgumentError, UnknownNameError
from agent.settings import Settings
from tools.context import ToolContext
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.toolset import (
    EquipmentArgs,
    ListEquipmentArgs,
    ReadTagsArgs,
    describe_equipment,
    list_equipment,
    read_equipment,
    read_tags,
)

from .uatestserver import NS_URI, PlantHandle

pytestmark = pytest.mark.asyncio(loop_scope="module")


def ctx_for(
    settings: Settings, conn: OpcUaConnection, catalog: Catalog, **kw: object
) -> ToolContext:
    return ToolContext(settings=settings, opcua=conn, catalog=catalog, **kw)  # type: ignore[arg-type]


async def test_browse_finds_equipment_tags_units_ranges(catalog: Catalog) -> None:
    assert catalog.equipment_names() == ["PU-1", "TK-7"]  # Controls has only methods
    pump = catalog.get_equipment("PU-1")
    assert pump.browse_path == ["Works", "Utilities", "Line1", "PU-1"]
    assert pump.description == "equipment PU-1"
    assert pump.tags == [
        "PU-1.FlowRate",
        "PU-1.DischargePressure",
        "PU-1.MotorCurrent",
        "PU-1.Running",
    ]
    flow = catalog.tag("PU-1.FlowRate")
    assert flow.equipment == "PU-1"
    assert flow.unit == "m³/h"
    assert (flow.eu_low, flow.eu_high) == (10.0, 90.0)
    assert flow.description == "Discharge flow of feed pump PU-1"
    assert flow.data_type == "Double"
    assert flow.namespace_uri == NS_URI
    assert flow.node_id == f"nsu={NS_URI};s=PU-1.FlowRate"
    assert flow.browse_path[-2:] == ["PU-1", "FlowRate"]
    running = catalog.tag("PU-1.Running")  # a plain variable: no unit, no range
    assert (running.unit, running.eu_low, running.data_type) == (None, None, "Boolean")
    assert set(catalog.enum_values("tag")) == set(catalog.tags)


async def test_unknown_names_come_with_close_matches(catalog: Catalog) -> None:
    with pytest.raises(UnknownNameError) as err:
        catalog.tag("PU-1.Flowrate")
    assert "PU-1.FlowRate" in err.value.suggestions
    with pytest.raises(UnknownNameError) as err:
        catalog.get_equipment("TK7")
    assert err.value.suggestions == ["TK-7"]


async def test_read_is_one_batched_read_request(
    plant: PlantHandle, conn: OpcUaConnection, catalog: Catalog, settings: Settings
) -> None:
    plant.plant_reads.clear()
    result = await read_tags(
        ctx_for(settings, conn, catalog), ReadTagsArgs(tags=catalog.tag_names())
    )
    assert [r.tag for r in result.readings] == catalog.tag_names()
    assert plant.plant_reads == [len(catalog.tags)]  # one Read service call for all six
    flow = result.readings[0]
    assert (flow.value, flow.unit, flow.low, flow.high) == (50.0, "m³/h", 10.0, 90.0)
    assert (flow.quality, flow.status, flow.stale, flow.out_of_limits) == (
        "good",
        "Good",
        False,
        None,
    )


async def test_bad_status_never_carries_a_value_and_uncertain_is_flagged(
    plant: PlantHandle, conn: OpcUaConnection, catalog: Catalog, settings: Settings
) -> None:
    await plant.set_value("TK-7.Level", 3.0, status=ua.StatusCodes.BadSensorFailure)
    await plant.set_value("TK-7.Temperature", 71.5, status=ua.StatusCodes.UncertainLastUsableValue)
    try:
        result = await read_equipment(
            ctx_for(settings, conn, catalog), EquipmentArgs(equipment="TK-7")
        )
    finally:
        await plant.set_value("TK-7.Level", 55.0)
        await plant.set_value("TK-7.Temperature", 35.0)
    level, temp = result.readings
    assert (level.value, level.quality, level.status) == (None, "bad", "BadSensorFailure")
    assert level.out_of_limits is None  # no value, no limit verdict
    assert (temp.value, temp.quality, temp.status) == (
        71.5,
        "uncertain",
        "UncertainLastUsableValue",
    )
    assert temp.out_of_limits == "high"


async def test_stale_flag_follows_the_injected_clock(
    plant: PlantHandle, conn: OpcUaConnection, catalog: Catalog, settings: Settings
) -> None:
    old = datetime.now(UTC) - timedelta(minutes=5)
    await plant.set_value("PU-1.MotorCurrent", 2.0, source_time=old)  # also below its range
    ctx = ctx_for(settings, conn, catalog)
    fresh_ctx = ctx_for(settings, conn, catalog, clock=lambda: old + timedelta(seconds=10))
    now_reading = (await read_tags(ctx, ReadTagsArgs(tags=["PU-1.MotorCurrent"]))).readings[0]
    then_reading = (await read_tags(fresh_ctx, ReadTagsArgs(tags=["PU-1.MotorCurrent"]))).readings[
        0
    ]
    await plant.set_value("PU-1.MotorCurrent", 18.0)
    assert now_reading.stale is True  # 5 minutes old against stale_after_s = 60
    assert then_reading.stale is False  # the same value seen 10 s after its timestamp
    assert now_reading.source_timestamp == old
    assert now_reading.out_of_limits == "low"


async def test_absurd_and_unknown_reads_are_refused(
    conn: OpcUaConnection, catalog: Catalog, settings: Settings
) -> None:
    ctx = ctx_for(settings, conn, catalog)
    many = [f"X-{i}.Value" for i in range(100_000)]
    with pytest.raises(InvalidArgumentError) as err:
        await read_tags(ctx, ReadTagsArgs(tags=many))
    assert "at most 2000" in err.value.message
    with pytest.raises(UnknownNameError) as unknown:
        await read_tags(ctx, ReadTagsArgs(tags=["PU-1.FlowRate", "PU1.DischargePressure"]))
    assert "PU-1.DischargePressure" in unknown.value.suggestions
    with pytest.raises(UnknownNameError):
        await read_equipment(ctx, EquipmentArgs(equipment="PU-2"))


async def test_list_and_describe_equipment(
    conn: OpcUaConnection, catalog: Catalog, settings: Settings
) -> None:
    ctx = ctx_for(settings, conn, catalog)
    listed = await list_equipment(ctx, ListEquipmentArgs())
    assert [(e.name, e.tag_count, e.path) for e in listed.equipment] == [
        ("PU-1", 4, "Works/Utilities/Line1/PU-1"),
        ("TK-7", 2, "Works/Utilities/Line1/TK-7"),
    ]
    assert [
        e.name for e in (await list_equipment(ctx, ListEquipmentArgs(contains="tk"))).equipment
    ] == ["TK-7"]
    tank = await describe_equipment(ctx, EquipmentArgs(equipment="TK-7"))
    assert [(t.name, t.unit, t.low, t.high) for t in tank.tags] == [
        ("TK-7.Level", "%", 20.0, 80.0),
        ("TK-7.Temperature", "°C", 10.0, 60.0),
    ]
