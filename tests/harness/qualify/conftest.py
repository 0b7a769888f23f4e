"""Fixtures of the qualification tests: a demo plant on a free loopback port (one per
module) and a fresh passphrase site per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from agent.settings import SimSettings
from agent.vault import KdfParams, init_site
from plant.server import DemoPlantServer

from .qualify_helpers import QUALIFY_PASSPHRASE


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def qualify_plant() -> AsyncIterator[DemoPlantServer]:
    """The demo plant with a few minutes of history."""
    async with DemoPlantServer(SimSettings(port=0, speed=60.0, history_hours=0.05)) as server:
        yield server


@pytest.fixture
def qualify_home(tmp_path: Path) -> Path:
    """A fresh passphrase site (cheap scrypt cost for tests)."""
    home = tmp_path / "site"
    init_site(home, passphrase=QUALIFY_PASSPHRASE, kdf=KdfParams(n=2**10, r=8, p=1))
    return home

