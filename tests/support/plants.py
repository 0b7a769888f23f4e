"""Demo plants for tests: a real DemoPlantServer on a free loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from agent.settings import SimSettings
from plant.server import DemoPlantServer


@asynccontextmanager
async def demo_plant(**sim: Any) -> AsyncIterator[DemoPlantServer]:
    """A running demo plant; ``sim`` overrides SimSettings (port 0 = a free port)."""
    settings = SimSettings(**{"port": 0, **sim})
    async with DemoPlantServer(settings) as server:
        yield server
