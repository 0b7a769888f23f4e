"""NAMUR NE 107 status of every reading: from the status code, the age and a flat line;
values in Failure or Function check are left out of a triage's evidence, and it says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from asyncua import ua

from agent.settings import Settings
from agent.triage.gather import gather
from tools.context import ToolContext
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.statuses import is_flat, ne107
from tools.opcua.toolset import ReadTagsArgs, read_tags

from .uatestserver import PlantHandle


@pytest.mark.parametrize(("status", "quality", "stale", "flat", "expected"), [
    ("Good", "good", False, False, "ok"),
    ("BadSensorFailure", "bad", False, False, "failure"),
    ("BadNotConnected", "bad", True, False, "failure"),
    ("BadOutOfService", "bad", False, False, "function_check"),
    ("GoodLocalOverride", "good", False, False, "function_check"),
    ("UncertainSubstituteValue", "uncertain", False, False, "function_check"),
    ("UncertainSimulatedValue", "uncertain", False, False, "function_check"),
    ("UncertainEngineeringUnitsExceeded", "uncertain", False, False, "out_of_specification"),
    ("UncertainSensorNotAccurate", "uncertain", False, False, "out_of_specification"),
    ("Uncertain", "uncertain", False, False, "out_of_specification"),
    ("Good", "good", False, True, "out_of_specification"),
    ("UncertainLastUsableValue", "uncertain", False, False, "maintenance_required"),
    ("UncertainSensorCalibration", "uncertain", False, False, "maintenance_required"),
    ("Good", "good", True, False, "maintenance_required"),
])
def test_status_codes_age_and_shape_map_to_ne107(
    status: str, quality: str, stale: bool, flat: bool, expected: str
) -> None:
    assert ne107(status, quality, stale=stale, flat=flat) == expected  # type: ignore[arg-type]


def test_a_flat_line_needs_noise_before_it() -> None:
    noisy = [1.0, 1.2, 0.9, 1.1]
    assert is_flat([*noisy, *[1.05] * 6])
    assert not is_flat([5.0] * 12)  # a setpoint nobody changed is not a stuck transmitter
    assert not is_flat([*noisy, 1.05, 1.05, 1.06, 1.05, 1.05, 1.05])


@pytest.mark.asyncio(loop_scope="module")
async def test_readings_carry_ne107_and_triage_leaves_function_check_out(
    plant: PlantHandle, conn: OpcUaConnection, catalog: Catalog, settings: Settings
) -> None:
    now = datetime.now(UTC)
    await plant.set_value("PU-1.MotorCurrent", 18.0, status=ua.StatusCodes.GoodLocalOverride)
    await plant.set_value("TK-7.Temperature", 35.0,
                          status=ua.StatusCodes.UncertainEngineeringUnitsExceeded)
    ctx = ToolContext(settings=settings, opcua=conn, catalog=catalog)
    got = await read_tags(ctx, ReadTagsArgs(tags=["PU-1.MotorCurrent", "TK-7.Temperature",
                                                  "PU-1.DischargePressure"]))
    assert [r.ne107 for r in got.readings] == ["function_check", "out_of_specification",
                                               "ok"]

    # History of the flow: three good samples and two substituted ones.
    storage = plant.server.iserver.history_manager.storage
    node = plant.variables["PU-1.FlowRate"].nodeid
    end = now - timedelta(minutes=40)
    for i, code in enumerate([ua.StatusCodes.Good, ua.StatusCodes.UncertainSubstituteValue,
                              ua.StatusCodes.Good, ua.StatusCodes.UncertainSubstituteValue,
                              ua.StatusCodes.Good]):
        ts = end + timedelta(minutes=i)
        await storage.save_node_value(node, ua.DataValue(
            ua.Variant(50.0 + i, ua.VariantType.Double), StatusCode=ua.StatusCode(ua.UInt32(code)),
            SourceTimestamp=ts, ServerTimestamp=ts))  # type: ignore[arg-type]
    tags = [catalog.tag("PU-1.FlowRate"), catalog.tag("PU-1.MotorCurrent")]
    found = await gather(conn, tags, start=end - timedelta(seconds=1),
                         end=end + timedelta(minutes=5), settings=settings.opcua,
                         clock=lambda: now)
    assert [v for _, v in found.series["PU-1.FlowRate"]] == [50.0, 52.0, 54.0]
    assert any("PU-1.FlowRate: 2 sample(s) in NE 107 Failure or Function check "
               "(UncertainSubstituteValue)" in g for g in found.gaps)
    assert any("PU-1.MotorCurrent (GoodLocalOverride)" in g for g in found.gaps)
    await plant.set_value("PU-1.MotorCurrent", 18.0)
    await plant.set_value("TK-7.Temperature", 35.0)
