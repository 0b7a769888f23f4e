"""The fair queue in front of the one model: alarm triage before questions, and between
people round-robin, so one person asking ten questions cannot starve another.

A job waits for its turn (``async with queue.turn(person, ...)``), holds the model while
inside, and gives it back on leaving, whatever happened. Cancelling a waiting job takes it
out of line; everyone behind hears their new place.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

#: Priorities: lower goes first.
TRIAGE, QUESTION = 0, 1

PositionHandler = Callable[[int], None]


@dataclass(eq=False)
class Job:
    """One piece of model work, waiting or running."""

    person: str
    kind: str
    priority: int
    label: str
    seq: int
    granted: asyncio.Future[None]
    on_position: PositionHandler | None = None
    position: int = 0
    queued_at: float = 0.0
    started_at: float | None = None
    cancelled: bool = field(default=False)

    @property
    def started(self) -> bool:
        """The job got the model."""
        return self.started_at is not None


class JobView(BaseModel):
    """A job as `plantagent status` shows it."""

    person: str
    kind: str
    label: str = Field(description="The client's question id, or the incident.")
    position: int = Field(0, description="1 = next in line; 0 while running.")
    seconds: float = Field(description="Waiting or running for this long.")


class QueueView(BaseModel):
    """The queue at one moment."""

    running: list[JobView]
    waiting: list[JobView]


class FairQueue:
    """Hands the model to one job at a time (``slots``), see the module docstring."""

    def __init__(self, slots: int = 1, clock: Callable[[], float] = time.monotonic) -> None:
        self.slots = slots
        self._clock = clock
        self._waiting: list[Job] = []
        self._running: list[Job] = []
        self._served: dict[str, int] = {}
        self._ticks = itertools.count()
        self._seq = itertools.count()

    @asynccontextmanager
    async def turn(self, person: str, *, kind: str = "question", priority: int = QUESTION,
                   label: str = "", on_position: PositionHandler | None = None
                   ) -> AsyncIterator[Job]:
        """Wait for the model, hold it inside the block. ``on_position`` hears the job's
        place in line (1 = next) each time it changes while it waits."""
        job = Job(person=person, kind=kind, priority=priority, label=label,
                  seq=next(self._seq), granted=asyncio.get_running_loop().create_future(),
                  on_position=on_position, queued_at=self._clock())
        self._waiting.append(job)
        self._dispatch()
        try:
            await job.granted
        except asyncio.CancelledError:
            job.cancelled = True
            if job in self._waiting:
                self._waiting.remove(job)
            if job in self._running:  # granted while being cancelled
                self._running.remove(job)
            self._dispatch()
            raise
        try:
            yield job
        finally:
            self._running.remove(job)
            self._dispatch()

    def view(self) -> QueueView:
        """What runs and what waits, in the order it will run."""
        now = self._clock()
        running = [JobView(person=j.person, kind=j.kind, label=j.label,
                           seconds=round(now - (j.started_at or now), 1)) for j in self._running]
        waiting = [JobView(person=j.person, kind=j.kind, label=j.label, position=i,
                           seconds=round(now - j.queued_at, 1))
                   for i, j in enumerate(self._order(), start=1)]
        return QueueView(running=running, waiting=waiting)

    def _dispatch(self) -> None:
        order = self._order()
        while order and len(self._running) < self.slots:
            job = order[0]
            self._waiting.remove(job)
            if job.granted.done():  # cancelled; its task has not run its handler yet
                order = self._order()
                continue
            self._running.append(job)
            self._served[job.person] = next(self._ticks)
            job.started_at = self._clock()
            job.position = 0
            job.granted.set_result(None)
            order = self._order()
        for place, job in enumerate(order, start=1):
            if job.position != place:
                job.position = place
                if job.on_position is not None:
                    job.on_position(place)

    def _order(self) -> list[Job]:
        """The waiting jobs in the order they will run: priority first, then the person
        served longest ago (never served: first), then arrival; each pick counts as that
        person being served, so people alternate."""
        served = dict(self._served)
        tick = max(served.values(), default=-1) + 1
        left = sorted(self._waiting, key=lambda j: j.seq)
        order: list[Job] = []
        while left:
            best = min(left, key=lambda j: (j.priority, served.get(j.person, -1), j.seq))
            order.append(best)
            left.remove(best)
            served[best.person] = tick
            tick += 1
        return order
