"""Induction motor: current from shaft power, winding and bearing heating, vibration.

Used for the conveyor drive M-101 and for the motor of pump P-101. The bearing model
is shared by the compressor: more load heats the bearing, wear heats it and shakes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from agent.twin.physics.common import lag


@dataclass(frozen=True)
class MotorParams:
    """Nameplate and thermal parameters of a three-phase induction motor."""

    rated_power_kw: float = 7.5
    rated_current_a: float = 14.0
    no_load_current_a: float = 4.5
    voltage_v: float = 400.0
    rated_speed_rpm: float = 2950.0
    #: Winding temperature rise above ambient at rated current, and its time constant.
    winding_rise_k: float = 70.0
    winding_tau_s: float = 1200.0


@dataclass(frozen=True)
class BearingParams:
    """Rolling bearing: temperature rise by speed, load and wear; vibration velocity."""

    speed_rise_k: float = 14.0
    load_rise_k: float = 16.0
    wear_rise_k: float = 38.0
    tau_s: float = 900.0
    vibration_base_mm_s: float = 1.3
    vibration_load_mm_s: float = 0.6
    vibration_wear_mm_s: float = 9.0
    vibration_tau_s: float = 30.0


@dataclass
class BearingState:
    """Bearing temperature (°C) and vibration velocity (mm/s RMS)."""

    temperature_c: float = 50.0
    vibration_mm_s: float = 1.8


def motor_current(p: MotorParams, shaft_kw: float, speed_frac: float = 1.0) -> float:
    """Line current (A) drawn for a shaft power: magnetising plus load component."""
    load = max(0.0, shaft_kw) / p.rated_power_kw
    active = (p.rated_current_a**2 - p.no_load_current_a**2) ** 0.5 * load
    return math.hypot(p.no_load_current_a * max(speed_frac, 0.2), active)


def winding_step(
    p: MotorParams, temp_c: float, current_a: float, ambient_c: float, dt: float
) -> float:
    """Winding temperature after ``dt``: copper losses grow with the square of the current."""
    target = ambient_c + p.winding_rise_k * (current_a / p.rated_current_a) ** 2
    return lag(temp_c, target, p.winding_tau_s, dt)


def bearing_step(
    p: BearingParams,
    s: BearingState,
    *,
    speed_frac: float,
    load_frac: float,
    wear: float,
    ambient_c: float,
    dt: float,
    extra_vibration_mm_s: float = 0.0,
) -> None:
    """Update bearing temperature and vibration.

    ``wear`` in [0, 1] is the bearing damage (a fault's severity); its heat and vibration
    grow faster than linearly, as spalling spreads.
    """
    load = max(0.0, load_frac)
    temp_target = (
        ambient_c + p.speed_rise_k * speed_frac + p.load_rise_k * load + p.wear_rise_k * wear**1.5
    )
    s.temperature_c = lag(s.temperature_c, temp_target, p.tau_s, dt)
    vib_target = (
        p.vibration_base_mm_s * speed_frac
        + p.vibration_load_mm_s * load
        + p.vibration_wear_mm_s * wear**1.3
        + extra_vibration_mm_s
    )
    s.vibration_mm_s = lag(s.vibration_mm_s, vib_target, p.vibration_tau_s, dt)
