"""Centrifugal pump P-101: operating point from pump and system curves, cavitation.

Pump curve:   dp = shutoff_dp * s² - curve_k * Q²          (s = speed / rated speed)
System curve: dp = static_dp - tank_head + (R_discharge + R_suction + R_filter) * Q²
Their intersection is the flow. Suction pressure is atmosphere plus tank head minus the
suction losses; when it approaches the vapour pressure the pump cavitates: flow and head
fall, vibration rises and turns erratic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from agent.twin.physics.common import ATMOSPHERE_BAR, BAR_PER_METRE, clamp, lag
from agent.twin.physics.motor import BearingParams, BearingState, MotorParams


@dataclass(frozen=True)
class PumpParams:
    """Hydraulic curve, piping and the pump's motor and bearing."""

    shutoff_dp_bar: float = 6.0
    curve_k: float = 0.00167
    static_dp_bar: float = 2.0
    discharge_resistance: float = 0.00255
    suction_resistance: float = 0.00003
    best_efficiency: float = 0.72
    best_efficiency_flow_m3h: float = 30.0
    vapour_pressure_bar: float = 0.22
    npsh_required_bar: float = 0.35
    flow_tau_s: float = 2.0
    #: Below this tank level the pump starts drawing air (vortexing).
    min_level_pct: float = 8.0
    motor: MotorParams = field(
        default_factory=lambda: MotorParams(
            rated_power_kw=11.0, rated_current_a=21.0, no_load_current_a=7.0
        )
    )
    bearing: BearingParams = field(default_factory=BearingParams)


@dataclass
class PumpState:
    """Flow, pressures, speed, motor and bearing of the pump."""

    flow_m3h: float = 30.0
    suction_bar_abs: float = 1.3
    discharge_bar_g: float = 4.3
    speed_rpm: float = 2950.0
    shaft_kw: float = 5.0
    current_a: float = 9.5
    winding_c: float = 60.0
    cavitation: float = 0.0
    bearing: BearingState = field(default_factory=BearingState)


@dataclass(frozen=True)
class OperatingPoint:
    """Where pump and system curves meet."""

    flow_m3h: float
    pump_dp_bar: float
    suction_bar_abs: float
    cavitation: float


def operating_point(
    p: PumpParams,
    *,
    speed_frac: float,
    tank_head_m: float,
    tank_level_pct: float,
    filter_resistance: float,
) -> OperatingPoint:
    """Solve the flow for the current speed, tank head and filter state."""
    head_bar = BAR_PER_METRE * tank_head_m
    resistance = p.curve_k + p.discharge_resistance + p.suction_resistance + filter_resistance
    drive = p.shutoff_dp_bar * speed_frac**2 - p.static_dp_bar + head_bar
    flow = math.sqrt(max(drive, 0.0) / resistance)
    suction = ATMOSPHERE_BAR + head_bar - (p.suction_resistance + filter_resistance) * flow**2
    margin = suction - p.vapour_pressure_bar - p.npsh_required_bar
    cavitation = clamp((0.15 - margin) / 0.35, 0.0, 1.0)
    # A nearly empty tank vortexes: the pump draws air, which acts like cavitation.
    starving = clamp(1.0 - tank_level_pct / p.min_level_pct, 0.0, 1.0)
    cavitation = max(cavitation, starving)
    flow *= 1.0 - 0.45 * cavitation - 0.5 * starving
    pump_dp = max(0.0, p.shutoff_dp_bar * speed_frac**2 - p.curve_k * flow**2) * (
        1.0 - 0.35 * cavitation
    )
    return OperatingPoint(max(flow, 0.0), pump_dp, suction, cavitation)


def hydraulic_efficiency(p: PumpParams, flow_m3h: float) -> float:
    """Efficiency falls off parabolically away from the best efficiency point."""
    x = flow_m3h / p.best_efficiency_flow_m3h - 1.0
    return clamp(p.best_efficiency * (1.0 - 0.8 * x * x), 0.25, p.best_efficiency)


def pump_hydraulics_step(p: PumpParams, s: PumpState, op: OperatingPoint, dt: float) -> None:
    """Move flow and pressures towards the operating point; compute shaft power."""
    s.flow_m3h = lag(s.flow_m3h, op.flow_m3h, p.flow_tau_s, dt)
    s.suction_bar_abs = lag(s.suction_bar_abs, op.suction_bar_abs, p.flow_tau_s, dt)
    s.discharge_bar_g = lag(
        s.discharge_bar_g, op.suction_bar_abs - 1.013 + op.pump_dp_bar, p.flow_tau_s, dt
    )
    s.cavitation = op.cavitation
    hydraulic_kw = s.flow_m3h / 3600.0 * op.pump_dp_bar * 100.0  # m³/s * kPa = kW
    # Disc friction and bearing losses keep some power draw even at zero flow.
    s.shaft_kw = hydraulic_kw / hydraulic_efficiency(p, s.flow_m3h) + 0.9
