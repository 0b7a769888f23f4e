"""The measurement layer: what the transmitters report for the true process values.

Adds white noise per tag, and applies sensor faults: a drifting transmitter gains an
offset, a stuck one repeats its last reading without noise. Uses its own random stream so
reading more or less often never changes the process trajectory.
"""

from __future__ import annotations

import random

from plant.faults import ActiveFault
from plant.tags import TAGS, TagSpec

#: Offset of a fully developed drift, as a share of the tag's normal range.
DRIFT_SPAN_FRACTION = 0.25


class SensorLayer:
    """Turns true values into readings."""

    def __init__(self, seed: int, tags: tuple[TagSpec, ...] = TAGS) -> None:
        self._rng = random.Random(seed ^ 0x5E5502)
        self._tags = tags
        self._frozen: dict[str, float] = {}
        self.last: dict[str, float] = {}

    def freeze(self, tag: str, value: float) -> None:
        """Stick ``tag`` at ``value`` (a stuck transmitter)."""
        self._frozen[tag] = value

    def unfreeze(self, tag: str) -> None:
        """Let ``tag`` follow the process again."""
        self._frozen.pop(tag, None)

    def read(
        self, true_values: dict[str, float], faults: list[ActiveFault], now_s: float
    ) -> dict[str, float]:
        """One reading of every tag."""
        drift: dict[str, float] = {}
        for fault in faults:
            if fault.spec.name == "sensor_drift" and fault.tag is not None:
                drift[fault.tag] = drift.get(fault.tag, 0.0) + fault.severity(now_s)
        gauss = self._rng.gauss
        out: dict[str, float] = {}
        for spec in self._tags:
            name = spec.name
            if spec.writable:
                # A setpoint is a number operators entered, not a measurement: exact.
                out[name] = true_values[name]
                continue
            if name in self._frozen:
                out[name] = self._frozen[name]
                continue
            value = true_values[name] + gauss(0.0, spec.noise)
            if name in drift:
                value += DRIFT_SPAN_FRACTION * spec.span * drift[name]
            out[name] = value
        self.last = out
        return out
