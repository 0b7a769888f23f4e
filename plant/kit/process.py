"""The interface a plant's process offers the kit: step the physics, give true values.

A process couples equipment models from ``agent.twin.physics``; it knows nothing about
OPC UA, sensors or alarms. Fault severities come in as {(fault name, equipment id): 0..1}.
"""

from __future__ import annotations

import random
from typing import Protocol

Severities = dict[tuple[str, str], float]


class Process(Protocol):
    """One plant's coupled physics."""

    def step(self, severities: Severities, rng: random.Random, dt: float) -> None:
        """Advance by ``dt`` simulated seconds (a few seconds at most per call)."""

    def values(self) -> dict[str, float]:
        """The true (noise-free) value of every tag, keyed by tag key."""


def sev(severities: Severities, fault: str, equipment: str) -> float:
    """The severity of ``fault`` on ``equipment`` (0 when not injected)."""
    return severities.get((fault, equipment), 0.0)
