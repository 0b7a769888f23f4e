"""Helpers of the review pane tests: demo plants, settings, a host app, waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Footer

from agent.people.identity import Acting
from agent.service.review import ReviewService
from agent.settings import Settings
from agent.twin.historian.store import Sample
from tests.support.people import Staff
from tests.support.plants import faulted_plant
from tests.support.sites import site_settings
from tools.opcua.history import read_raw

#: The shift lead the sessions run as (the UI's configured user).
SHIFT_LEAD = "ana"
#: An engineer, who may approve what the shift lead proposed.
ENGINEER = "eve"
#: Longest a test waits for a worker or the plant (a loaded 2-core box is slow).
WAIT_S = 40.0


def demo_plant(faults: list[tuple[str, str, float]]) -> Any:
    """A demo plant on a free loopback port whose pre-filled history ends ``lead``
    simulated seconds after each (fault, equipment, lead) started (tests/support)."""
    return faulted_plant(faults)


def settings_for(home: Path, endpoint: str) -> Settings:
    """The site in ``home``, the plant at ``endpoint``, the UI run by the shift lead."""
    return site_settings(home, endpoint, user=SHIFT_LEAD)


@dataclass
class StaffActing:
    """The enrolled person a test's UI acts as (their own key, from a key file)."""

    staff: Staff
    user: str
    role: str

    def __call__(self) -> Acting:
        return self.staff(self.user, self.role)


def as_person(review: ReviewService, user: str, role: str) -> ReviewService:
    """The same site and plant, used by another person (another UI's settings)."""
    agent = review.settings.agent.model_copy(update={"user": user, "role": role})
    settings = review.settings.model_copy(update={"agent": agent})
    acting = review.acting
    if isinstance(acting, StaffActing):  # approvals are signed by the person's own key
        acting = StaffActing(acting.staff, user, role)
    return replace(review, sources=replace(review.sources, settings=settings),
                   acting=acting)


@dataclass
class Host:
    """What a pane needs of the agent service: its review backend."""

    review: ReviewService | None


class PaneApp(App[None]):
    """One pane and the key hints, as the real app shows them."""

    def __init__(self, make: Callable[[], Widget]) -> None:
        super().__init__()
        self.make = make

    def compose(self) -> ComposeResult:
        """The pane over the footer."""
        pane = self.make()
        pane.styles.height = "1fr"
        yield pane
        yield Footer()

    def on_mount(self) -> None:
        """The keyboard in the pane's first field, as PlantAgentApp puts it on a tab."""
        self.call_after_refresh(self._focus_first)

    def _focus_first(self) -> None:
        focusable = [w for w in self.screen.query("*") if w.focusable]
        if focusable:
            focusable[0].focus()


async def wait_for(pilot: Pilot[None], check: Callable[[], bool], what: str) -> None:
    """Let the app run until ``check`` holds; fail after WAIT_S naming ``what``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def record_twin(review: ReviewService, equipment: str, minutes: float = 20.0) -> int:
    """Sync the asset model from the catalog and copy the plant's own recent history of
    ``equipment`` into the historian (what `plantagent twin sync` and `twin record` do),
    so the what-if has a model and data to fit."""
    catalog, connection = review.sources.catalog, review.sources.connection
    twin = review.twin
    end = datetime.now(UTC)
    await asyncio.to_thread(twin.assets.sync, catalog, end)
    samples: list[Sample] = []
    for name in catalog.equipment[equipment].tags:
        points, _ = await read_raw(connection, catalog.tag(name), end - timedelta(
            minutes=minutes), end, 5000)
        samples += [Sample(name, p.time.timestamp(), float(p.value)) for p in points
                    if p.time is not None and isinstance(p.value, int | float)]
    return await asyncio.to_thread(twin.historian.insert_batch, samples)
