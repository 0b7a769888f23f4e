"""The triage watcher as a background task of the agent service, stopped cleanly."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from agent.triage.service import TriageService


@dataclass
class TriageRunner:
    """Runs ``service.watch`` until :meth:`stop`; ``last`` is its latest progress line."""

    service: TriageService
    interval_s: float = 30.0
    last: str | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[int] | None = None

    def start(self) -> None:
        """Start watching in the background."""
        self._task = asyncio.get_running_loop().create_task(
            self.service.watch(self._stop, interval_s=self.interval_s, progress=self._note),
            name="plantagent-triage-watch",
        )
        self._task.add_done_callback(self._finished)

    def _note(self, text: str) -> None:
        self.last = text

    def _finished(self, task: asyncio.Task[int]) -> None:
        if not task.cancelled() and task.exception() is not None:
            # Shown in the status bar; the exception itself is re-raised by stop().
            self.last = f"triage stopped: {task.exception()}"

    async def stop(self) -> None:
        """Ask the loop to end after its current pass and wait for it (bounded)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), 10.0)
        except TimeoutError:
            task.cancel()  # a pass stuck on a hung server: cut it short
            with contextlib.suppress(asyncio.CancelledError):
                await task
