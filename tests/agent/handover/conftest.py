"""Fixtures of the handover tests: per module, a real demo plant (with a fault history) on
a free loopback port, a real encrypted site, and its site runtime with a scripted model
that has lived through a shift."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from agent.llm.scripted import ScriptedModel
from agent.runtime import SiteRuntime
from plant.server import DemoPlantServer
from plant.site import install_demo_site
from tests.support.sites import new_site

from .handover_helpers import FAULTS, Opened, demo_plant, run_shift, site_settings


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def plant() -> AsyncIterator[DemoPlantServer]:
    """The demo plant with a jammed conveyor and a clogging filter in its history."""
    async with demo_plant(FAULTS) as server:
        yield server


@pytest.fixture(scope="module")
def shift_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh demo-key site for the module, with the demo site's data (its fault modes
    and couplings), as `plantagent demo` installs them."""
    home = new_site(tmp_path_factory.mktemp("handover") / "site")
    install_demo_site(home)
    return home


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lived(plant: DemoPlantServer, shift_home: Path) -> AsyncIterator[Opened]:
    """The site runtime (scripted model) after a shift of activity."""
    settings = site_settings(shift_home, plant.endpoint)
    model = ScriptedModel()
    async with SiteRuntime(settings, endpoint=plant.endpoint, model=model,
                           plant_name="the demo plant") as runtime:
        shift = await run_shift(runtime, model)
        yield Opened(runtime, await runtime.shift_sources(), model, settings, shift)
