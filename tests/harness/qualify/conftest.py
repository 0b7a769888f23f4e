"""Fixtures of the qualification tests: a demo plant on a free loopback port (one per
module) and a fresh passphrase site per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from plant.server import DemoPlantServer
from tests.support.plants import demo_plant
from tests.support.sites import PASSPHRASE, new_site


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def qualify_plant() -> AsyncIterator[DemoPlantServer]:
    """The demo plant with a few minutes of history."""
    async with demo_plant(speed=60.0, history_hours=0.05) as server:
        yield server


@pytest.fixture
def qualify_home(tmp_path: Path) -> Path:
    """A fresh passphrase site (cheap scrypt cost for tests)."""
    return new_site(tmp_path / "site", passphrase=PASSPHRASE)

