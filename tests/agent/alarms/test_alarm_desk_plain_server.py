"""The alarm desk on a server without Part 9 methods (the toolset's plain test server,
whose conditions are events only): a clear refusal, audited, nothing pretended."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import AlarmMethodsUnsupported
from agent.runtime.alarms import open_alarm_desk
from tests.support.sites import new_site
from tests.tools.opcua.uatestserver import start_plant
from tools.opcua.conditions import condition_states

from .alarms_helpers import LEAD, records, site_settings


@pytest.mark.asyncio
async def test_a_server_without_the_methods_is_refused_clearly(tmp_path: Path) -> None:
    plant = await start_plant()
    try:
        await plant.alarm("PU-1.FlowRate", "High", active=True, acked=False)
        home = new_site(tmp_path / "site")
        async with open_alarm_desk(site_settings(home, plant.endpoint)) as session:
            with pytest.raises(AlarmMethodsUnsupported, match="does not implement Acknowledge"):
                await session.desk.acknowledge(actor=LEAD, role="shift_lead",
                                               condition="PU-1.FlowRate")
            result = records(session.audit, "tool_result", "acknowledge_alarm")[-1]
            assert result["ok"] is False and "does not implement" in result["result"]["error"]
            with pytest.raises(AlarmMethodsUnsupported, match="no shelving state"):
                await session.desk.shelve(actor=LEAD, role="shift_lead",
                                          condition="PU-1.FlowRate", minutes=5,
                                          reason="nuisance")
            assert records(session.audit, "policy_decision", "shelve_alarm")
            assert await session.desk.shelving.requests() == []
            [state] = await condition_states(session.connection, None)
            assert state.acked is False and state.shelving is None  # as it was
    finally:
        await plant.stop()
