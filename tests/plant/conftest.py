"""Fixtures of the demo plant tests: a real DemoPlantServer on a free loopback port,
fast-forwarded, and a real asyncua client connected to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from asyncua import Client

from plant.server import NAMESPACE_URI, DemoPlantServer

from .plant_testing import sim_settings_for_tests


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def demo_plant() -> AsyncIterator[DemoPlantServer]:
    """One running demo plant shared by the tests of this package (faults cleared after each)."""
    async with DemoPlantServer(sim_settings_for_tests(), publish_interval_s=0.25) as server:
        yield server


@pytest_asyncio.fixture(loop_scope="package")
async def plant_client(demo_plant: DemoPlantServer) -> AsyncIterator[Client]:
    """An asyncua client connected to ``demo_plant``, one per test: a session kept open
    across the package lost its keepalive while a loaded machine ran other tests."""
    client = Client(demo_plant.endpoint, timeout=10)
    client.session_timeout = 60_000
    async with client:
        yield client


@pytest_asyncio.fixture(loop_scope="package")
async def plant_ns(plant_client: Client) -> int:
    """Namespace index of the demo plant on the server."""
    return int(await plant_client.get_namespace_index(NAMESPACE_URI))
