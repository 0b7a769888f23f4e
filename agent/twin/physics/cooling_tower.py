"""Induced-draft cooling tower with a VFD fan holding the cold-water temperature.

The tower cools the condenser water towards the ambient wet-bulb temperature. Its
effectiveness follows an NTU model, ``eps = 1 - exp(-NTU)``, with
``NTU = ntu_design * (air / air_design)^0.6 * (water / water_design)^-0.4`` (Merkel's
correlation in its usual exponent form); cold water = hot water - eps * (hot - wet bulb).
A PI controller sets the fan speed to hold the cold-water setpoint. Fan power follows the
cube of speed. A degraded fan (slipping belt, eroded blades) moves less air at the same
speed and draws less power; fouled fill lowers the NTU. Exact lags: stable at any step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from agent.twin.physics.common import PIParams, PIState, clamp, lag, pi_step
from agent.twin.physics.motor import BearingParams, BearingState, bearing_step


@dataclass(frozen=True)
class CoolingTowerParams:
    """Design point, fan, control and fault effects."""

    ntu_design: float = 1.25
    water_design_m3h: float = 160.0
    fan_rated_kw: float = 18.5
    fan_rated_rpm: float = 480.0
    cold_setpoint_c: float = 27.0
    #: Reverse acting: cold water too warm (negative error) speeds the fan up.
    fan_control: PIParams = field(
        default_factory=lambda: PIParams(kp=-25.0, ti_s=180.0, bias=60.0, out_min=20.0)
    )
    fan_tau_s: float = 10.0
    basin_tau_s: float = 180.0
    #: Share of airflow lost with a fully degraded fan, of NTU with fully fouled fill.
    degraded_air_fraction: float = 0.45
    fouled_ntu_fraction: float = 0.5
    bearing: BearingParams = field(
        default_factory=lambda: BearingParams(vibration_base_mm_s=1.6, vibration_load_mm_s=0.9)
    )


@dataclass
class CoolingTowerState:
    """Water temperatures, fan speed and power, the fan bearing."""

    hot_water_c: float = 32.5
    cold_water_c: float = 27.0
    fan_speed_pct: float = 60.0
    fan_rpm: float = 288.0
    fan_kw: float = 4.0
    airflow_pct: float = 60.0
    controller: PIState = field(default_factory=PIState)
    bearing: BearingState = field(default_factory=lambda: BearingState(38.0, 2.0))


def tower_effectiveness(p: CoolingTowerParams, air_frac: float, water_m3h: float,
                        fouling: float = 0.0) -> float:
    """Share of the approach to wet bulb the tower closes."""
    water = max(water_m3h, 1.0) / p.water_design_m3h
    ntu = p.ntu_design * max(air_frac, 0.02) ** 0.6 * water**-0.4
    ntu *= 1.0 - (1.0 - p.fouled_ntu_fraction) * clamp(fouling, 0.0, 1.0)
    # Natural draft keeps some cooling with the fan stopped.
    return 1.0 - math.exp(-max(ntu, 0.05))


def cooling_tower_step(
    p: CoolingTowerParams,
    s: CoolingTowerState,
    *,
    hot_water_c: float,
    water_m3h: float,
    wet_bulb_c: float,
    fan_degradation: float,
    fill_fouling: float,
    ambient_c: float,
    dt: float,
    setpoint_c: float | None = None,
) -> None:
    """Advance the tower by ``dt``: fan control, effectiveness, basin temperature."""
    target = p.cold_setpoint_c if setpoint_c is None else setpoint_c
    command = pi_step(p.fan_control, s.controller, target - s.cold_water_c, dt)
    s.fan_speed_pct = lag(s.fan_speed_pct, command, p.fan_tau_s, dt)
    speed = s.fan_speed_pct / 100.0
    degraded = clamp(fan_degradation, 0.0, 1.0)
    air = speed * (1.0 - p.degraded_air_fraction * degraded)
    s.airflow_pct = lag(s.airflow_pct, air * 100.0, p.fan_tau_s, dt)
    s.fan_rpm = p.fan_rated_rpm * speed * (1.0 - 0.6 * p.degraded_air_fraction * degraded)
    # Less air moved means less work done: power falls with the airflow for the speed.
    s.fan_kw = lag(s.fan_kw, p.fan_rated_kw * speed**3 * (1.0 - 0.5 * degraded), p.fan_tau_s, dt)
    eps = tower_effectiveness(p, s.airflow_pct / 100.0, water_m3h, fill_fouling)
    s.hot_water_c = hot_water_c
    s.cold_water_c = lag(s.cold_water_c, hot_water_c - eps * (hot_water_c - wet_bulb_c),
                         p.basin_tau_s, dt)
    bearing_step(p.bearing, s.bearing, speed_frac=speed, load_frac=speed**3, wear=0.0,
                 ambient_c=ambient_c, dt=dt)
