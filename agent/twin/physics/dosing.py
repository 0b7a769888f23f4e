"""Chemical dosing skid: a metering pump under flow control, and the residual it leaves.

Flow-paced dosing: the dose setpoint (mg/l) times the water flow gives the solution flow
setpoint (l/h); a PI controller sets the pump's stroke (% of full stroke rate) to hold
the measured solution flow. The pump delivers ``stroke * max_flow * prime`` where
``prime`` falls when the pump loses prime (gas in the head, a leaking suction valve):
the controller opens the stroke until it saturates, delivered flow and residual fall.

The residual leaving the contact tank is the applied dose minus the water's demand,
reached through a first-order lag with the contact time. Exact lags: stable at any step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.twin.physics.common import PIParams, PIState, clamp, lag, pi_step


@dataclass(frozen=True)
class DosingParams:
    """Metering pump, solution, control and contact tank."""

    max_flow_l_h: float = 12.0
    #: Active substance in the solution, g/l (sodium hypochlorite about 120-150 g/l).
    strength_g_l: float = 125.0
    dose_setpoint_mg_l: float = 0.9
    flow_control: PIParams = field(
        default_factory=lambda: PIParams(kp=3.0, ti_s=40.0, bias=40.0)
    )
    stroke_tau_s: float = 3.0
    contact_tau_s: float = 900.0
    #: Share of delivery left when prime is fully lost.
    lost_prime_fraction: float = 0.15


@dataclass
class DosingState:
    """Stroke, solution flow and its setpoint, the dose and the residual."""

    stroke_pct: float = 45.0
    flow_l_h: float = 5.0
    flow_setpoint_l_h: float = 5.0
    dose_mg_l: float = 0.9
    residual_mg_l: float = 0.55
    controller: PIState = field(default_factory=PIState)


def dosing_step(
    p: DosingParams,
    s: DosingState,
    *,
    water_flow_m3h: float,
    demand_mg_l: float,
    lost_prime: float,
    dt: float,
) -> None:
    """Advance the skid by ``dt``: flow pacing, stroke control, delivery, residual."""
    water = max(water_flow_m3h, 0.1)
    # g/m³ = mg/l: solution flow (l/h) * strength (g/l) / water (m³/h).
    s.flow_setpoint_l_h = min(p.dose_setpoint_mg_l * water / p.strength_g_l, p.max_flow_l_h)
    error = (s.flow_setpoint_l_h - s.flow_l_h) / p.max_flow_l_h * 100.0
    command = pi_step(p.flow_control, s.controller, error, dt)
    s.stroke_pct = lag(s.stroke_pct, command, p.stroke_tau_s, dt)
    prime = 1.0 - (1.0 - p.lost_prime_fraction) * clamp(lost_prime, 0.0, 1.0)
    s.flow_l_h = lag(s.flow_l_h, s.stroke_pct / 100.0 * p.max_flow_l_h * prime,
                     p.stroke_tau_s, dt)
    s.dose_mg_l = s.flow_l_h * p.strength_g_l / water
    s.residual_mg_l = lag(s.residual_mg_l, max(0.0, s.dose_mg_l - demand_mg_l),
                          p.contact_tau_s, dt)
