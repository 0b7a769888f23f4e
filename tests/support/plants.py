"""Plants for tests: a real DemoPlantServer (healthy, or with faults scheduled into its
pre-filled history) or a test plant of the kit, on a free loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from agent.settings import SimSettings
from plant.kit.server import KitPlantServer
from plant.scheduled import ScheduledFault, ScheduledPlantModel
from plant.server import DemoPlantServer
from plant.testplants import all_test_plants


@asynccontextmanager
async def demo_plant(*, publish_interval_s: float = 0.5,
                     **sim: Any) -> AsyncIterator[DemoPlantServer]:
    """A running demo plant; ``sim`` overrides SimSettings (port 0 = a free port)."""
    settings = SimSettings(**{"port": 0, **sim})
    async with DemoPlantServer(settings, publish_interval_s=publish_interval_s) as server:
        yield server


@asynccontextmanager
async def faulted_plant(
    faults: list[tuple[str, str, float]], *, seed: int = 3, speed: float = 1.0,
    history_hours: float | None = None,
) -> AsyncIterator[DemoPlantServer]:
    """A demo plant whose history ends ``lead`` simulated seconds after each fault
    (fault, target, lead) started; it runs on at ``speed`` (1 = slow, so the test sees
    the state the history ends in). The history is ``history_hours`` long, or long enough
    to hold half an hour before the earliest fault."""
    lead = max((f[2] for f in faults), default=0.0)
    hours = history_hours or max(0.5, (lead + 1800.0) / 3600.0)
    # A fast-forwarded plant needs history points often enough to show a fast fault.
    period = 10.0 if speed <= 1.0 else 0.5
    sim = SimSettings(port=0, speed=speed, history_hours=hours, history_period_s=period,
                      seed=seed)
    server = DemoPlantServer(sim, publish_interval_s=0.25)
    server.model = ScheduledPlantModel(
        [ScheduledFault(f, t, hours * 3600.0 - lead) for f, t, lead in faults], seed=seed
    )
    async with server:
        yield server


@asynccontextmanager
async def kit_plant(name: str, **sim: Any) -> AsyncIterator[KitPlantServer]:
    """A running test plant (waterworks, kuehlwasser, chillerplant) on a free port."""
    settings = SimSettings(**{"port": 0, **sim})
    async with KitPlantServer(all_test_plants()[name], settings) as server:
        yield server
