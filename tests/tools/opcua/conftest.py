"""Fixtures of the OPC UA toolset tests: real asyncua servers on free loopback ports."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from agent.settings import Settings
from tools.opcua.browse import browse_catalog
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection

from .opcua_helpers import make_settings
from .uatestserver import PlantHandle, start_plant


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def plant() -> AsyncIterator[PlantHandle]:
    """One test server shared by a module's tests."""
    server = await start_plant()
    yield server
    await server.stop()


@pytest.fixture(scope="module")
def settings(plant: PlantHandle, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("site"), plant.endpoint)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def conn(settings: Settings) -> AsyncIterator[OpcUaConnection]:
    async with OpcUaConnection.from_settings(settings) as connection:
        yield connection


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def catalog(conn: OpcUaConnection) -> Catalog:
    return await browse_catalog(conn)
