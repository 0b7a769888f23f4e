"""Fixtures of the end-to-end tests: per test module, one demo plant on a free loopback
port, one encrypted site and one agent session with the real default model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from agent.compose import AgentSession, open_agent
from agent.settings import SimSettings, load_settings
from agent.vault import KdfParams, init_site
from plant.server import DemoPlantServer

PASSPHRASE = "e2e passphrase for tests"
#: The user every end-to-end question is asked as.
SHIFT_LEAD = "e2e-shift-lead"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def plant() -> AsyncIterator[DemoPlantServer]:
    """The demo plant, fast-forwarded 60x, with an hour of history."""
    async with DemoPlantServer(SimSettings(port=0, speed=60.0, history_hours=1.0)) as server:
        yield server


@pytest.fixture(scope="module")
def site_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh passphrase site (cheap scrypt cost for tests)."""
    home = tmp_path_factory.mktemp("e2e-site")
    init_site(home, passphrase=PASSPHRASE, kdf=KdfParams(n=2**10, r=8, p=1))
    return home


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def session(
    plant: DemoPlantServer, site_home: Path, default_model_path: Path
) -> AsyncIterator[AgentSession]:
    """The agent as `plantagent ask` builds it, on the site and plant above."""
    settings = load_settings(
        home=site_home,
        # One inference thread: the machine is shared, and runs compare alike.
        model={"directory": str(default_model_path.parent), "threads": 1},
        agent={"user": SHIFT_LEAD, "role": "shift_lead"},
    )
    async with open_agent(
        settings, endpoint=plant.endpoint, passphrase=PASSPHRASE, plant_name="the demo plant"
    ) as opened:
        yield opened
