"""Helpers of the triage tests: faulted demo plants and an open triage service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from agent.audit import AuditSink
from agent.settings import Settings, SimSettings, load_settings
from agent.triage.compose import build_service
from agent.triage.service import TriageService
from agent.triage.watcher import WatchRules
from agent.triage.writer import ReportWriter
from agent.vault import Site, open_site
from plant.scheduled import ScheduledFault, ScheduledPlantModel
from plant.server import DemoPlantServer
from tools.opcua.alarms import EventLog
from tools.opcua.browse import browse_catalog
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection

#: Longest a test waits for the plant to reach a state (a loaded 2-core box is slow).
WAIT_S = 40.0


@asynccontextmanager
async def faulted_plant(
    faults: list[tuple[str, str, float]], *, seed: int = 3, speed: float = 1.0,
    history_hours: float | None = None,
) -> AsyncIterator[DemoPlantServer]:
    """A demo plant whose history ends ``lead`` simulated seconds after each fault
    (fault, target, lead) started; it runs on at ``speed`` (1 = slow, so the test sees
    the state the history ends in)."""
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


def settings_for(home: Path, endpoint: str) -> Settings:
    """Settings of a test site talking to ``endpoint`` with short timeouts."""
    return load_settings(home=home, opcua={"endpoint": endpoint, "timeout_s": 3.0})


@dataclass
class Opened:
    """An open triage service and its parts."""

    service: TriageService
    site: Site
    conn: OpcUaConnection
    catalog: Catalog
    settings: Settings


@asynccontextmanager
async def open_service(
    home: Path, endpoint: str, *, audit: AuditSink | None = None,
    writer: ReportWriter | None = None, rules: WatchRules | None = None,
    with_events: bool = False,
) -> AsyncIterator[Opened]:
    """Site + connection + catalog + service, closed on exit."""
    settings = settings_for(home, endpoint)
    with open_site(settings) as site:
        async with OpcUaConnection.from_settings(settings) as conn:
            catalog = await browse_catalog(conn)
            events = None
            if with_events:
                events = EventLog(conn, catalog)
                await events.start()
            service = build_service(settings, site, conn, catalog, audit=audit, writer=writer,
                                    rules=rules, events=events)
            try:
                yield Opened(service, site, conn, catalog, settings)
            finally:
                if events is not None:
                    await events.close()


async def wait_until(check: Callable[[], bool | Awaitable[bool]], what: str) -> None:
    """Poll ``check`` until it holds; fail after WAIT_S naming ``what``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while True:
        got = check()
        if not isinstance(got, bool):
            got = await got
        if got:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)
