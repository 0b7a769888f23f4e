"""Fixtures of the digital-twin model tests: a real demo plant on a free loopback port,
fast-forwarded (the sites are the shared plugin's ``home`` and ``site``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from plant.server import DemoPlantServer
from tests.support.plants import demo_plant as run_demo_plant

from .layout_server import LayoutServer, start_layout_server


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def demo_plant() -> AsyncIterator[DemoPlantServer]:
    """One running demo plant (speed 1800: an hour of physics in two seconds)."""
    async with run_demo_plant(speed=1800.0, history_hours=0.05, history_period_s=10.0,
                          publish_interval_s=0.25) as server:
        yield server


@pytest_asyncio.fixture(loop_scope="package")
async def layout() -> AsyncIterator[LayoutServer]:
    """A small server laid out differently from the demo plant (changed by some tests)."""
    server = await start_layout_server()
    yield server
    await server.stop()
