"""Fixtures of the digital-twin model tests: a real demo plant on a free loopback port,
fast-forwarded, and real encrypted sites in temporary directories (cheap scrypt)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from agent.settings import SimSettings
from agent.vault import Site, init_site, open_site
from plant.server import DemoPlantServer

from .layout_server import LayoutServer, start_layout_server
from .twin_helpers import FAST_KDF, PASSPHRASE


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh passphrase site."""
    site_home = tmp_path / "site"
    init_site(site_home, passphrase=PASSPHRASE, kdf=FAST_KDF)
    return site_home


@pytest.fixture
def site(home: Path) -> Iterator[Site]:
    """The fresh site, open."""
    with open_site(home, passphrase=PASSPHRASE) as opened:
        yield opened


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def demo_plant() -> AsyncIterator[DemoPlantServer]:
    """One running demo plant (speed 1800: an hour of physics in two seconds)."""
    sim = SimSettings(port=0, speed=1800.0, history_hours=0.05, history_period_s=10.0)
    async with DemoPlantServer(sim, publish_interval_s=0.25) as server:
        yield server


@pytest_asyncio.fixture(loop_scope="package")
async def layout() -> AsyncIterator[LayoutServer]:
    """A small server laid out differently from the demo plant (changed by some tests)."""
    server = await start_layout_server()
    yield server
    await server.stop()
