"""Plant air compressor C-101: oil-injected screw with modulating capacity control.

A PI controller sets the load (capacity share) to hold the receiver pressure against the
air demand of the line. A leaking discharge/check valve recirculates hot compressed air:
delivered air falls for the same load, the controller loads up, discharge and oil
temperatures climb and, once load saturates, the pressure sags.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.twin.physics.common import ATMOSPHERE_BAR, PIParams, PIState, clamp, lag, pi_step
from agent.twin.physics.motor import BearingParams, BearingState, bearing_step


@dataclass(frozen=True)
class CompressorParams:
    """Capacity, receiver, pressure control, motor and thermal behaviour."""

    capacity_m3h: float = 180.0
    receiver_m3: float = 3.0
    pressure_setpoint_bar: float = 7.0
    pressure_control: PIParams = field(
        default_factory=lambda: PIParams(kp=40.0, ti_s=60.0, bias=65.0)
    )
    load_tau_s: float = 4.0
    full_load_current_a: float = 40.0
    unloaded_current_a: float = 14.0
    discharge_temp_base_c: float = 62.0
    discharge_temp_load_k: float = 18.0
    discharge_temp_leak_k: float = 32.0
    discharge_tau_s: float = 240.0
    oil_temp_base_c: float = 52.0
    oil_temp_load_k: float = 14.0
    oil_temp_leak_k: float = 16.0
    oil_tau_s: float = 600.0
    oil_pressure_base_bar: float = 2.4
    #: Share of compressed air lost back through a fully leaking valve.
    leak_loss_fraction: float = 0.5
    duty_window_s: float = 600.0
    bearing: BearingParams = field(
        default_factory=lambda: BearingParams(
            vibration_base_mm_s=1.9, vibration_load_mm_s=0.8, vibration_wear_mm_s=8.0
        )
    )


@dataclass
class CompressorState:
    """Receiver pressure, load, delivered air, temperatures, current and duty cycle."""

    pressure_bar_g: float = 7.0
    load_pct: float = 65.0
    air_flow_m3h: float = 117.0
    discharge_temp_c: float = 86.0
    oil_temp_c: float = 66.0
    oil_pressure_bar: float = 2.8
    current_a: float = 31.0
    duty_pct: float = 65.0
    controller: PIState = field(default_factory=PIState)
    bearing: BearingState = field(default_factory=lambda: BearingState(62.0, 2.6))


def compressor_step(
    p: CompressorParams,
    s: CompressorState,
    *,
    demand_m3h: float,
    leak: float,
    wear: float,
    ambient_c: float,
    dt: float,
    setpoint_bar: float | None = None,
) -> None:
    """Advance the compressor by ``dt``; ``leak`` and ``wear`` are severities in [0, 1];
    ``setpoint_bar`` is the receiver pressure held (None: the parameter's)."""
    target = p.pressure_setpoint_bar if setpoint_bar is None else setpoint_bar
    command = pi_step(p.pressure_control, s.controller, target - s.pressure_bar_g, dt)
    s.load_pct = lag(s.load_pct, command, p.load_tau_s, dt)
    load = s.load_pct / 100.0
    s.air_flow_m3h = p.capacity_m3h * load * (1.0 - p.leak_loss_fraction * leak)
    # Receiver mass balance (isothermal): bar gained per normal m³ stored.
    gain = ATMOSPHERE_BAR / p.receiver_m3
    s.pressure_bar_g = clamp(
        s.pressure_bar_g + (s.air_flow_m3h - demand_m3h) / 3600.0 * dt * gain, 0.0, 10.0
    )
    s.current_a = p.unloaded_current_a + (p.full_load_current_a - p.unloaded_current_a) * load
    hot = ambient_c - 25.0
    s.discharge_temp_c = lag(
        s.discharge_temp_c,
        p.discharge_temp_base_c
        + hot
        + p.discharge_temp_load_k * load
        + p.discharge_temp_leak_k * leak,
        p.discharge_tau_s,
        dt,
    )
    s.oil_temp_c = lag(
        s.oil_temp_c,
        p.oil_temp_base_c + 0.6 * hot + p.oil_temp_load_k * load + p.oil_temp_leak_k * leak,
        p.oil_tau_s,
        dt,
    )
    # Thinner (hotter) oil gives a little less pressure.
    s.oil_pressure_bar = p.oil_pressure_base_bar + 0.5 * load - 0.006 * (s.oil_temp_c - 60.0)
    s.duty_pct = lag(s.duty_pct, s.load_pct, p.duty_window_s, dt)
    bearing_step(
        p.bearing, s.bearing, speed_frac=1.0, load_frac=load, wear=wear, ambient_c=ambient_c, dt=dt
    )
