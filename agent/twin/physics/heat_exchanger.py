"""Product cooler HX-101: counter-flow heat exchanger with a coolant flow controller.

Heat duty by the effectiveness-NTU method. A PI controller opens the coolant valve to hold
the product (hot side) outlet at its setpoint. Fouling lowers UA, so the valve opens
further; loss of cooling water limits the coolant flow, so the valve saturates and the
outlet temperature climbs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from agent.twin.physics.common import PIParams, PIState, lag, pi_step

#: Volumetric heat capacity of water-like liquids, kW per (m³/h) per K.
WATER_KW_PER_M3H_K = 1000.0 * 4.18 / 3600.0


@dataclass(frozen=True)
class HeatExchangerParams:
    """Size, coolant supply and the outlet temperature controller."""

    ua_kw_k: float = 70.0
    coolant_max_m3h: float = 55.0
    outlet_setpoint_c: float = 35.0
    #: Reverse acting: a hot outlet (negative error) opens the valve.
    temperature_control: PIParams = field(
        default_factory=lambda: PIParams(kp=-4.0, ti_s=150.0, bias=55.0)
    )
    temp_tau_s: float = 45.0
    valve_tau_s: float = 8.0
    #: Share of UA left when fully fouled, share of coolant supply left on total loss.
    fouled_ua_fraction: float = 0.35
    lost_supply_fraction: float = 0.12


@dataclass
class HeatExchangerState:
    """Temperatures, coolant valve and flow, heat duty."""

    hot_in_c: float = 62.0
    hot_out_c: float = 35.0
    cold_in_c: float = 18.0
    cold_out_c: float = 45.0
    coolant_flow_m3h: float = 30.0
    valve_pct: float = 55.0
    duty_kw: float = 950.0
    controller: PIState = field(default_factory=PIState)


def effectiveness(ntu: float, cr: float) -> float:
    """Counter-flow effectiveness for NTU and capacity ratio Cmin/Cmax."""
    if ntu <= 0.0:
        return 0.0
    if abs(1.0 - cr) < 1e-6:
        return ntu / (1.0 + ntu)
    e = math.exp(-ntu * (1.0 - cr))
    return (1.0 - e) / (1.0 - cr * e)


def heat_exchanger_step(
    p: HeatExchangerParams,
    s: HeatExchangerState,
    *,
    product_flow_m3h: float,
    hot_in_c: float,
    coolant_in_c: float,
    fouling: float,
    supply_loss: float,
    dt: float,
    setpoint_c: float | None = None,
) -> None:
    """Advance the exchanger by ``dt``. ``fouling`` and ``supply_loss`` are in [0, 1];
    ``setpoint_c`` is the product outlet temperature held (None: the parameter's)."""
    target = p.outlet_setpoint_c if setpoint_c is None else setpoint_c
    command = pi_step(p.temperature_control, s.controller, target - s.hot_out_c, dt)
    s.valve_pct = lag(s.valve_pct, command, p.valve_tau_s, dt)
    supply = p.coolant_max_m3h * (1.0 - (1.0 - p.lost_supply_fraction) * supply_loss)
    # An equal-percentage-ish valve: flow grows faster near full opening.
    opening = s.valve_pct / 100.0
    s.coolant_flow_m3h = lag(s.coolant_flow_m3h, supply * opening**1.3, p.valve_tau_s, dt)
    c_hot = max(product_flow_m3h, 0.05) * WATER_KW_PER_M3H_K
    c_cold = max(s.coolant_flow_m3h, 0.05) * WATER_KW_PER_M3H_K
    c_min, c_max = min(c_hot, c_cold), max(c_hot, c_cold)
    ua = p.ua_kw_k * (1.0 - (1.0 - p.fouled_ua_fraction) * fouling)
    duty = effectiveness(ua / c_min, c_min / c_max) * c_min * (hot_in_c - coolant_in_c)
    s.hot_in_c = lag(s.hot_in_c, hot_in_c, p.temp_tau_s / 3.0, dt)
    s.cold_in_c = coolant_in_c
    s.hot_out_c = lag(s.hot_out_c, hot_in_c - duty / c_hot, p.temp_tau_s, dt)
    s.cold_out_c = lag(s.cold_out_c, coolant_in_c + duty / c_cold, p.temp_tau_s, dt)
    s.duty_kw = lag(s.duty_kw, duty, p.temp_tau_s, dt)
