"""The toolset against the demo plant (plant/): browse, read, history, a fault's alarms."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from asyncua import Client, ua

from agent.settings import SimSettings
from tools.context import utcnow
from tools.opcua import alarms, history, read
from tools.opcua.browse import browse_catalog
from tools.opcua.client import OpcUaConnection

from .opcua_helpers import make_settings

demo = pytest.importorskip("plant.server")

DEMO_NS = "urn:plantagent:demo-plant"


async def test_toolset_on_the_demo_plant(tmp_path: Path) -> None:
    sim = SimSettings(port=0, speed=600, history_hours=0.25)
    async with demo.DemoPlantServer(sim) as plant:
        settings = make_settings(tmp_path, plant.endpoint, timeout_s=4.0)
        async with OpcUaConnection.from_settings(settings) as conn:
            catalog = await browse_catalog(conn)
            assert {"P-101", "T-101", "CV-101", "M-101"} <= set(catalog.equipment)
            assert "Simulation" not in catalog.equipment  # methods only
            tank = catalog.tag("T-101.Level")
            assert tank.namespace_uri == DEMO_NS and tank.unit == "%"
            assert tank.eu_low is not None and tank.eu_high is not None

            readings = await read.read_tags(
                conn,
                catalog,
                catalog.tag_names(),
                clock=utcnow,
                stale_after_s=60,
                max_tags=2000,
            )
            assert all(r.quality == "good" and r.value is not None for r in readings)

            now = utcnow()
            past = await history.tag_history(
                conn, tank, start=now - timedelta(minutes=15), end=now, settings=settings.opcua
            )
            assert past.summary.count > 10  # pre-filled at start-up

            assert await alarms.active_alarms(conn, catalog) == []
            simulation = conn.node_id(f"nsu={DEMO_NS};s=Simulation")

            async def inject(client: Client) -> object:
                return await client.get_node(simulation).call_method(
                    ua.QualifiedName("InjectFault", conn.namespaces.index(DEMO_NS)),
                    "conveyor_jam",
                    "CV-101",
                )

            await conn.request("inject a fault", inject)
            active: list = []
            async with asyncio.timeout(30):  # a jam develops in seconds at speed 600
                while not active:
                    await asyncio.sleep(0.5)
                    active = await alarms.active_alarms(conn, catalog)
            assert all(a.source in catalog.tags and a.active for a in active)
            assert any(a.source.startswith(("M-101.", "CV-101.")) for a in active)
