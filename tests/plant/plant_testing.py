"""Helpers of the demo plant tests (imported by the test modules and conftest)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from asyncua import Client

from agent.settings import SimSettings
from plant.server.uatypes import plant_id

#: Simulated seconds per real second in the server tests: three hours of bearing wear
#: take about three seconds.
TEST_SPEED = 3600.0
#: Longest a test waits for a fault to show before failing (a loaded 2-core box is slow).
FAULT_WAIT_S = 30.0


def sim_settings_for_tests(**overrides: float) -> SimSettings:
    """SimSettings for tests: free port, fast-forward, half an hour of history."""
    values: dict[str, float] = {
        "port": 0,
        "speed": TEST_SPEED,
        "history_hours": 0.5,
        "history_period_s": 10.0,
    }
    values.update(overrides)
    return SimSettings(**values)


async def read_tags(client: Client, ns: int, tags: list[str]) -> dict[str, float]:
    """Current values of tags, in one Read."""
    nodes = [client.get_node(plant_id(t, ns)) for t in tags]
    values = await client.read_values(nodes)
    return dict(zip(tags, (float(v) for v in values), strict=True))


async def wait_until(
    check: Callable[[], Awaitable[bool]], timeout_s: float = FAULT_WAIT_S, poll_s: float = 0.25
) -> bool:
    """Poll ``check`` until it is true or ``timeout_s`` passes; return its last answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        if await check():
            return True
        if loop.time() > deadline:
            return False
        await asyncio.sleep(poll_s)
