"""A PlantModel whose faults start at scheduled simulated times.

Used to build a demo plant whose pre-filled history already holds a fault developing
after a normal baseline (evals and triage tests): give it to DemoPlantServer before
``start()``, and the history pre-fill runs through the schedule.
"""

from __future__ import annotations

from dataclasses import dataclass

from plant.model import PlantModel


@dataclass(frozen=True)
class ScheduledFault:
    """Inject ``fault`` on ``target`` once the model reaches ``at_s`` simulated seconds."""

    fault: str
    target: str
    at_s: float


class ScheduledPlantModel(PlantModel):
    """PlantModel plus a fault schedule (checked before every step)."""

    def __init__(self, schedule: list[ScheduledFault], *, seed: int = 7) -> None:
        # Empty during the warm-up, whose simulated clock is reset afterwards.
        self._pending: list[ScheduledFault] = []
        super().__init__(seed=seed)
        self._pending = sorted(schedule, key=lambda s: s.at_s)

    def step(self, dt: float) -> None:
        """Start the faults that are due, then step."""
        while self._pending and self._pending[0].at_s <= self.time_s:
            due = self._pending.pop(0)
            self.inject(due.fault, due.target)
        super().step(dt)
