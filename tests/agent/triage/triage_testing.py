"""Helpers of the triage tests: faulted demo plants (tests/support) and an open triage
service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from agent.runtime import SiteRuntime
from agent.settings import Settings
from agent.triage.service import TriageService
from agent.triage.watcher import WatchRules
from agent.triage.writer import ReportWriter
from tests.support.plants import faulted_plant
from tests.support.sites import site_settings
from tools.opcua.catalog import Catalog

__all__ = ["WAIT_S", "Opened", "faulted_plant", "open_service", "settings_for", "wait_until"]

#: Longest a test waits for the plant to reach a state (a loaded 2-core box is slow).
WAIT_S = 40.0


def settings_for(home: Path, endpoint: str) -> Settings:
    """Settings of a test site talking to ``endpoint`` with short timeouts."""
    return site_settings(home, endpoint)


@dataclass
class Opened:
    """An open triage service and the runtime that built it."""

    service: TriageService
    runtime: SiteRuntime
    catalog: Catalog
    settings: Settings


@asynccontextmanager
async def open_service(
    home: Path, endpoint: str, *, writer: ReportWriter | None = None,
    rules: WatchRules | None = None, with_events: bool = False,
) -> AsyncIterator[Opened]:
    """The site's runtime and its triage service (template writer unless ``writer``),
    closed on exit."""
    settings = settings_for(home, endpoint)
    async with SiteRuntime(settings) as runtime:
        service = await runtime.triage(writer=writer, rules=rules, events=with_events)
        yield Opened(service, runtime, await runtime.catalog(), settings)


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
