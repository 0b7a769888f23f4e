"""Fixtures of the alarm desk tests: a real demo plant (MaxTimeShelved 10 minutes), a
real encrypted site, and the desk over both, per module."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from agent.runtime.alarms import AlarmSession, open_alarm_desk
from agent.settings import SimSettings
from plant.server import DemoPlantServer
from tests.support.people import Staff
from tests.support.sites import new_site

from .alarms_helpers import site_settings


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def plant() -> AsyncIterator[DemoPlantServer]:
    """A demo plant in real time whose MaxTimeShelved is 10 minutes."""
    sim = SimSettings(port=0, speed=1.0, history_hours=0.05)
    async with DemoPlantServer(sim, publish_interval_s=0.25,
                               max_time_shelved=timedelta(minutes=10)) as server:
        yield server


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh demo-key site for the module."""
    return new_site(tmp_path_factory.mktemp("alarms") / "site")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def desk(plant: DemoPlantServer, home: Path) -> AsyncIterator[AlarmSession]:
    """The alarm desk of the site over the plant (acting as the shift lead)."""
    async with open_alarm_desk(site_settings(home, plant.endpoint)) as session:
        yield session


@pytest.fixture(scope="module")
def staff(desk: AlarmSession, home: Path) -> Staff:
    """Enrolled people acting on demand (their keys in key files)."""
    people = desk.desk.shelving.people
    assert people is not None
    return Staff(people, home.parent / "keys", ["shift_lead", "engineer", "auditor"])
