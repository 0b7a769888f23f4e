"""Belt-driven centrifugal fan (air handling units, blowers) with a filter in its system.

Fan laws: at a speed ratio s the fan curve is ``dp = shutoff_pa * s² - curve_k * Q²``
(Q in m³/h), the duct system asks ``dp = (duct_k + filter_k) * Q²``; their intersection
gives ``Q = s * sqrt(shutoff / (curve_k + duct_k + filter_k))``. A slipping belt turns
the fan slower than its motor, so airflow and pressure fall while the motor speed holds;
a loading filter raises its resistance, so airflow falls and the filter's pressure drop
rises. Shaft power is air power over efficiency; the motor current follows the motor
model, the bearing follows the shared bearing model. Every update is a closed-form
solution or an exact first-order lag: stable at any step length.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.twin.physics.common import clamp, lag
from agent.twin.physics.motor import (
    BearingParams,
    BearingState,
    MotorParams,
    bearing_step,
    motor_current,
)


@dataclass(frozen=True)
class FanParams:
    """Fan curve at rated speed, duct system, filter, efficiency, motor and bearing."""

    shutoff_pa: float = 1500.0
    curve_k: float = 2.0e-6
    duct_k: float = 1.6e-6
    filter_clean_k: float = 0.45e-6
    #: A fully loaded filter has this many times the clean resistance.
    filter_clogged_factor: float = 4.0
    rated_fan_rpm: float = 1450.0
    efficiency: float = 0.68
    #: Share of fan speed lost at full belt slip (a worn, loose belt).
    max_belt_slip: float = 0.35
    tau_s: float = 6.0
    motor: MotorParams = field(
        default_factory=lambda: MotorParams(
            rated_power_kw=15.0, rated_current_a=28.0, no_load_current_a=9.0,
            rated_speed_rpm=1460.0,
        )
    )
    bearing: BearingParams = field(default_factory=BearingParams)


@dataclass
class FanState:
    """Airflow, pressures, speeds, power, current and the bearing."""

    airflow_m3h: float = 20000.0
    fan_dp_pa: float = 900.0
    filter_dp_pa: float = 150.0
    fan_rpm: float = 1300.0
    motor_rpm: float = 1300.0
    shaft_kw: float = 8.0
    current_a: float = 18.0
    bearing: BearingState = field(default_factory=BearingState)


def filter_k(p: FanParams, clogging: float) -> float:
    """Filter resistance (Pa per (m³/h)²) for a loading severity in [0, 1]."""
    return p.filter_clean_k * (1.0 + (p.filter_clogged_factor - 1.0) * clamp(clogging, 0, 1))


def fan_airflow(p: FanParams, speed_frac: float, filter_resistance: float) -> float:
    """Airflow (m³/h) where the fan curve meets the system curve at ``speed_frac``."""
    s = max(0.0, speed_frac)
    return s * (p.shutoff_pa / (p.curve_k + p.duct_k + filter_resistance)) ** 0.5


def fan_step(
    p: FanParams,
    s: FanState,
    *,
    speed_frac: float,
    clogging: float,
    belt_slip: float,
    wear: float,
    ambient_c: float,
    dt: float,
) -> None:
    """Advance the fan by ``dt``. ``speed_frac`` is the motor (VFD) speed over rated;
    ``clogging``, ``belt_slip`` and ``wear`` are fault severities in [0, 1]."""
    motor_frac = clamp(speed_frac, 0.0, 1.2)
    fan_frac = motor_frac * (1.0 - p.max_belt_slip * clamp(belt_slip, 0.0, 1.0))
    fk = filter_k(p, clogging)
    flow = fan_airflow(p, fan_frac, fk)
    fan_dp = (p.duct_k + fk) * flow * flow
    s.airflow_m3h = lag(s.airflow_m3h, flow, p.tau_s, dt)
    s.fan_dp_pa = lag(s.fan_dp_pa, fan_dp, p.tau_s, dt)
    s.filter_dp_pa = lag(s.filter_dp_pa, fk * flow * flow, p.tau_s, dt)
    s.fan_rpm = lag(s.fan_rpm, p.rated_fan_rpm * fan_frac, p.tau_s, dt)
    s.motor_rpm = lag(s.motor_rpm, p.motor.rated_speed_rpm * motor_frac, p.tau_s, dt)
    air_kw = flow / 3600.0 * fan_dp / 1000.0
    # A slipping belt wastes some power as heat in the belt.
    shaft = air_kw / p.efficiency * (1.0 + 0.15 * clamp(belt_slip, 0.0, 1.0)) + 0.2
    s.shaft_kw = lag(s.shaft_kw, shaft, p.tau_s, dt)
    s.current_a = motor_current(p.motor, s.shaft_kw, motor_frac)
    bearing_step(p.bearing, s.bearing, speed_frac=fan_frac,
                 load_frac=shaft / p.motor.rated_power_kw, wear=wear, ambient_c=ambient_c, dt=dt)
