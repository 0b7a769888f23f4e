"""Plants for tests: a real DemoPlantServer or test plant on a free loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from agent.settings import SimSettings
from plant.kit.server import KitPlantServer
from plant.server import DemoPlantServer
from plant.testplants import all_test_plants


@asynccontextmanager
async def demo_plant(**sim: Any) -> AsyncIterator[DemoPlantServer]:
    """A running demo plant; ``sim`` overrides SimSettings (port 0 = a free port)."""
    settings = SimSettings(**{"port": 0, **sim})
    async with DemoPlantServer(settings) as server:
        yield server


@asynccontextmanager
async def kit_plant(name: str, **sim: Any) -> AsyncIterator[KitPlantServer]:
    """A running test plant (waterworks, kuehlwasser, chillerplant) on a free port."""
    settings = SimSettings(**{"port": 0, **sim})
    async with KitPlantServer(all_test_plants()[name], settings) as server:
        yield server
