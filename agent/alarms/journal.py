"""The alarm journal: every condition event the agent hears, kept in the site's encrypted
``alarms`` database, with the spans of time it was listening.

The journal is the site's own alarm history for the alarm report: a server keeps its
event history for hours or days, the journal for as long as the site keeps it. What it
did not hear is not guessed: the report counts only the time inside the spans (plus what
the server's own history covers) and names the rest as gaps.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

from agent.alarms.store import AlarmStore
from agent.errors import PlantAgentError
from tools.context import utcnow
from tools.opcua.alarms import EventLog
from tools.opcua.models import ConditionState


class AlarmJournal:
    """Records an EventLog's condition events; ``start``/``close`` around its life."""

    def __init__(self, store: AlarmStore, log: EventLog, *, endpoint: str,
                 clock: Callable[[], datetime] = utcnow, flush_s: float = 2.0) -> None:
        self.store = store
        self.log = log
        self.endpoint = endpoint
        self.clock = clock
        self.flush_s = flush_s
        self.recorded = 0
        self._pending: list[ConditionState] = []
        self._segment: int | None = None
        self._task: asyncio.Task[None] | None = None

    def _on_event(self, state: ConditionState) -> None:
        self._pending.append(state)

    async def start(self) -> None:
        """Listen and record from now on."""
        self.log.listeners.append(self._on_event)
        await self.flush()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="alarm-journal")

    async def flush(self) -> None:
        """Write what was heard and extend (or close) the span of listening."""
        events, self._pending = self._pending, []
        now = self.clock()
        if events:
            await asyncio.to_thread(self.store.add_events, events)
            self.recorded += len(events)
        if self.log.live:
            if self._segment is None:
                self._segment = await asyncio.to_thread(self.store.open_segment, now,
                                                        self.endpoint)
            else:
                await asyncio.to_thread(self.store.extend_segment, self._segment, now)
        else:
            self._segment = None  # the next live moment starts a new span: a gap between

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_s)
            with contextlib.suppress(PlantAgentError):
                await self.flush()

    async def close(self) -> None:
        """Stop; what was heard is written."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(PlantAgentError):
            await self.flush()
        with contextlib.suppress(ValueError):
            self.log.listeners.remove(self._on_event)
