"""Fixtures of the end-to-end tests: per test module, one demo plant on a free loopback
port, one encrypted site and its site runtime with the real default model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from agent.runtime import SiteRuntime
from plant.server import DemoPlantServer
from tests.support.plants import demo_plant
from tests.support.sites import PASSPHRASE, new_site, site_settings

#: The user every end-to-end question is asked as.
SHIFT_LEAD = "e2e-shift-lead"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def plant() -> AsyncIterator[DemoPlantServer]:
    """The demo plant, fast-forwarded 60x, with an hour of history."""
    async with demo_plant(speed=60.0, history_hours=1.0) as server:
        yield server


@pytest.fixture(scope="module")
def e2e_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh passphrase site (cheap scrypt cost for tests)."""
    return new_site(tmp_path_factory.mktemp("e2e-site"), passphrase=PASSPHRASE)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def runtime(
    plant: DemoPlantServer, e2e_home: Path, default_model_path: Path
) -> AsyncIterator[SiteRuntime]:
    """The site runtime as `plantagent ask` builds it, on the site and plant above, its
    agent built (the real model loaded)."""
    settings = site_settings(e2e_home, user=SHIFT_LEAD,
                             # One inference thread: the machine is shared, and runs
                             # compare alike.
                             model={"directory": str(default_model_path.parent),
                                    "threads": 1})
    async with SiteRuntime(settings, endpoint=plant.endpoint, passphrase=PASSPHRASE,
                           plant_name="the demo plant") as opened:
        await opened.agent()
        yield opened
