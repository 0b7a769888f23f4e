"""Feed tank T-101: a level-controlled buffer that supplies pump P-101.

The level controller throttles the inlet valve; a stuck valve starves the tank, the level
falls and the pump loses suction head.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.twin.physics.common import PIParams, PIState, clamp, lag, pi_step


@dataclass(frozen=True)
class TankParams:
    """Geometry and level control of the feed tank."""

    area_m2: float = 3.0
    height_m: float = 4.0
    #: Height of the tank bottom above the pump suction (adds suction head).
    elevation_m: float = 3.0
    inlet_max_m3h: float = 60.0
    level_setpoint_pct: float = 55.0
    level_control: PIParams = field(default_factory=lambda: PIParams(kp=6.0, ti_s=600.0, bias=50.0))
    #: How fast the inlet valve actuator follows its command.
    valve_tau_s: float = 5.0


@dataclass
class TankState:
    """Level (% of height), liquid temperature, inlet valve and flow."""

    level_pct: float = 55.0
    temperature_c: float = 62.0
    valve_pct: float = 50.0
    inlet_flow_m3h: float = 30.0
    controller: PIState = field(default_factory=PIState)

    def volume_m3(self, p: TankParams) -> float:
        """Liquid volume in the tank."""
        return p.area_m2 * p.height_m * self.level_pct / 100.0

    def head_m(self, p: TankParams) -> float:
        """Liquid column above the pump suction."""
        return p.elevation_m + p.height_m * self.level_pct / 100.0


def tank_step(
    p: TankParams,
    s: TankState,
    *,
    outflow_m3h: float,
    feed_temp_c: float,
    valve_stuck_pct: float | None,
    dt: float,
    setpoint_pct: float | None = None,
) -> None:
    """Advance the tank by ``dt``: valve, inflow, level balance and mixing temperature.

    ``valve_stuck_pct`` is where a stuck inlet valve sits (None: the controller moves it).
    ``setpoint_pct`` is the level the controller holds (None: the parameter's default).
    """
    target = p.level_setpoint_pct if setpoint_pct is None else setpoint_pct
    command = pi_step(p.level_control, s.controller, target - s.level_pct, dt)
    if valve_stuck_pct is not None:
        command = valve_stuck_pct
    s.valve_pct = lag(s.valve_pct, command, p.valve_tau_s, dt)
    s.inlet_flow_m3h = p.inlet_max_m3h * s.valve_pct / 100.0
    volume = p.area_m2 * p.height_m
    delta_pct = (s.inlet_flow_m3h - outflow_m3h) / 3600.0 * dt / volume * 100.0
    s.level_pct = clamp(s.level_pct + delta_pct, 0.0, 100.0)
    # Well-mixed tank: the contents approach the feed temperature at the turnover rate.
    liquid = max(s.volume_m3(p), 0.2)
    turnover_s = liquid / max(s.inlet_flow_m3h / 3600.0, 1e-4)
    s.temperature_c = lag(s.temperature_c, feed_temp_c, turnover_s, dt)
