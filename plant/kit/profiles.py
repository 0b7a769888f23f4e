"""How a fault's severity grows from 0 to 1 after its onset (shaped like real failures:
wear and clogging creep then accelerate, a loss settles like a lag, a drift ramps, a
stuck transmitter freezes at once). Fully developed after about three time constants."""

from __future__ import annotations

import math

from plant.kit.spec import Profile

_E3 = math.exp(3.0) - 1.0


def severity(profile: Profile, onset_s: float, elapsed_s: float) -> float:
    """Severity in [0, 1] ``elapsed_s`` simulated seconds after the fault started."""
    if profile == "step" or onset_s <= 0.0:
        return 1.0 if elapsed_s >= 0.0 else 0.0
    if elapsed_s <= 0.0:
        return 0.0
    x = elapsed_s / onset_s
    if profile == "accelerating":
        return min(1.0, math.expm1(min(x, 3.0)) / _E3)
    if profile == "first_order":
        return -math.expm1(-x)
    return min(1.0, x / 3.0)
