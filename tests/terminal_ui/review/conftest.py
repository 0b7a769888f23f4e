"""Fixtures of the review pane tests: per module one real demo plant on a free loopback
port, one real encrypted site (cheap KDF), and the agent service as `plantagent tui` opens
it, with a scripted model."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from agent.llm.scripted import ScriptedModel
from agent.runtime import SiteRuntime
from agent.service import AgentService, open_service
from plant.server import DemoPlantServer
from plant.site import install_demo_site
from tests.support.people import Staff
from tests.support.sites import new_site

from .review_helpers import ENGINEER, StaffActing, demo_plant, settings_for

#: Cooling lost on the product cooler 500 simulated seconds before the plant starts:
#: alarms are active and the triage watcher reports it on its first pass.
COOLING_LOSS = [("cooling_loss", "HX-101", 500.0)]


@pytest.fixture(scope="module")
def review_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh demo-key site for the module."""
    home = new_site(tmp_path_factory.mktemp("review") / "site")
    install_demo_site(home)  # its fault modes and couplings, as `plantagent demo` does
    yield home


@pytest.fixture(scope="module")
def model() -> ScriptedModel:
    """The scripted model of the module's service; tests enqueue its steps."""
    return ScriptedModel()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def faulted_plant() -> AsyncIterator[DemoPlantServer]:
    """The demo plant with the product cooler's cooling lost."""
    async with demo_plant(COOLING_LOSS) as plant:
        yield plant


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def service(
    faulted_plant: DemoPlantServer, review_home: Path, model: ScriptedModel
) -> AsyncIterator[AgentService]:
    """The agent service on the faulted plant, its triage watcher running."""
    settings = settings_for(review_home, faulted_plant.endpoint)
    async with SiteRuntime(settings, endpoint=faulted_plant.endpoint, model=model,
                           plant_name="the demo plant") as runtime, \
            open_service(runtime, triage_interval_s=3600.0) as opened:
        assert opened.review is not None
        staff = Staff(runtime.people, review_home.parent / "people-keys",
                      ["shift_lead", "engineer", "auditor"])
        for person in (settings.agent.user, ENGINEER):  # enrolled before any test counts
            staff.signer(person)
        opened.review.acting = StaffActing(staff, settings.agent.user, settings.agent.role)
        yield opened
