"""Fixtures of the terminal UI tests: the real demo plant on a free loopback port, a real
encrypted site, and the agent service over them (a scripted model unless a test asks for
the real one)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from agent.settings import Settings, SimSettings
from agent.vault import KdfParams, init_site
from plant.server import DemoPlantServer

from .tui_helpers import PASSPHRASE, site_settings


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def plant() -> AsyncIterator[DemoPlantServer]:
    """The demo plant shared by a module's tests, fast-forwarded, with history."""
    async with DemoPlantServer(SimSettings(port=0, speed=60.0, history_hours=0.5)) as server:
        yield server


@pytest.fixture(scope="module")
def site_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh passphrase site (cheap scrypt cost for tests)."""
    home = tmp_path_factory.mktemp("tui-site")
    init_site(home, passphrase=PASSPHRASE, kdf=KdfParams(n=2**10, r=8, p=1))
    return home


@pytest.fixture(scope="module")
def settings(site_home: Path) -> Settings:
    """Settings of the test site (user and role of a shift lead)."""
    return site_settings(site_home)
