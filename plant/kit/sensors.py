"""The measurement layer of a test plant: noise, a drifting or a stuck transmitter.

Its own random stream, so reading more or less often never changes the process.
"""

from __future__ import annotations

import random

from plant.kit.spec import TagDef

#: Offset of a fully developed drift, as a share of the tag's normal range.
DRIFT_SPAN_FRACTION = 0.4


class Transmitters:
    """Turns true values into readings."""

    def __init__(self, seed: int, tags: tuple[TagDef, ...]) -> None:
        self._rng = random.Random(seed ^ 0x5E5502)
        self._tags = tags
        self._frozen: dict[str, float] = {}
        self.last: dict[str, float] = {}

    def freeze(self, key: str, value: float) -> None:
        """Stick tag ``key`` at ``value``."""
        self._frozen[key] = value

    def unfreeze(self, key: str) -> None:
        """Let tag ``key`` follow the process again."""
        self._frozen.pop(key, None)

    def read(self, true_values: dict[str, float], drift: dict[str, float]) -> dict[str, float]:
        """One reading of every tag; ``drift`` holds the severity of drifting tags."""
        gauss = self._rng.gauss
        out: dict[str, float] = {}
        for tag in self._tags:
            key = tag.key
            if key in self._frozen:
                out[key] = self._frozen[key]
                continue
            value = true_values[key]
            if tag.data_type == "Boolean" or tag.exact:
                out[key] = value
                continue
            value += gauss(0.0, tag.noise)
            if key in drift:
                value += DRIFT_SPAN_FRACTION * tag.span * drift[key]
            out[key] = value
        self.last = out
        return out
