"""Small numerical building blocks shared by the equipment models.

Every update is written in exact (exponential) form so a step of any length ``dt`` is
stable: the server fast-forwards with steps of several simulated seconds, the history
pre-fill with steps of the history sample period.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

#: Gravity times water density, in bar per metre of liquid column.
BAR_PER_METRE = 0.0981
#: Atmospheric pressure in bar.
ATMOSPHERE_BAR = 1.013


def clamp(value: float, low: float, high: float) -> float:
    """``value`` limited to [low, high]."""
    return low if value < low else high if value > high else value


def lag(value: float, target: float, tau_s: float, dt: float) -> float:
    """First-order lag of ``value`` towards ``target`` with time constant ``tau_s``."""
    if tau_s <= 0.0:
        return target
    return target + (value - target) * math.exp(-dt / tau_s)


@dataclass
class Wander:
    """A slow random disturbance (Ornstein-Uhlenbeck process) around ``mean``.

    ``sigma`` is the stationary standard deviation, ``tau_s`` how long a deviation lasts.
    """

    mean: float
    sigma: float
    tau_s: float
    value: float

    def step(self, rng: random.Random, dt: float) -> float:
        """Advance by ``dt`` simulated seconds and return the new value."""
        decay = math.exp(-dt / self.tau_s)
        spread = self.sigma * math.sqrt(max(0.0, 1.0 - decay * decay))
        self.value = self.mean + (self.value - self.mean) * decay + spread * rng.gauss(0.0, 1.0)
        return self.value


@dataclass(frozen=True)
class PIParams:
    """A proportional-integral controller: output = bias + kp * (error + integral / ti)."""

    kp: float
    ti_s: float
    bias: float
    out_min: float = 0.0
    out_max: float = 100.0


@dataclass
class PIState:
    """The integral term of a PI controller (error-seconds)."""

    integral: float = 0.0


def pi_step(p: PIParams, s: PIState, error: float, dt: float) -> float:
    """One controller update; the integral stops growing while the output saturates."""
    candidate = s.integral + error * dt
    out = p.bias + p.kp * (error + candidate / p.ti_s)
    if p.out_min < out < p.out_max:
        s.integral = candidate
    else:
        out = p.bias + p.kp * (error + s.integral / p.ti_s)
    return clamp(out, p.out_min, p.out_max)
