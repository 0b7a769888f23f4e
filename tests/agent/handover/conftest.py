"""Fixtures of the handover tests: per module, a real demo plant (with a fault history) on
a free loopback port, a real encrypted site, and an agent session with a scripted model
that has lived through a shift."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from agent.compose import open_agent
from agent.llm.scripted import ScriptedModel
from plant.server import DemoPlantServer

from .handover_helpers import FAULTS, Opened, demo_plant, new_site, run_shift, site_settings


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def plant() -> AsyncIterator[DemoPlantServer]:
    """The demo plant with a jammed conveyor and a clogging filter in its history."""
    async with demo_plant(FAULTS) as server:
        yield server


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh demo-key site for the module."""
    return new_site(tmp_path_factory.mktemp("handover") / "site")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lived(plant: DemoPlantServer, home: Path) -> AsyncIterator[Opened]:
    """An agent session (scripted model) after a shift of activity."""
    settings = site_settings(home, plant.endpoint)
    model = ScriptedModel()
    async with open_agent(settings, endpoint=plant.endpoint, model=model,
                          plant_name="the demo plant") as session:
        shift = await run_shift(session, settings, model)
        yield Opened(session, model, settings, shift)
