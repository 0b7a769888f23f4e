"""Water-cooled vapour-compression chiller (screw or centrifugal, R-134a).

The chiller holds its chilled-water supply (leaving evaporator) temperature at a setpoint
by modulating capacity with a PI controller. Heat balance per step:

- evaporator duty ``Q_e = m_chw * cp * (T_chwr - T_chws)``, limited by the capacity the
  refrigerant charge allows;
- evaporating temperature ``T_evap = T_chws - Q_e / UA_evap`` (approach grows with duty);
- compressor power from a Carnot COP times an isentropic/mechanical efficiency,
  ``COP = eta * T_evap / (T_cond - T_evap)`` (kelvin);
- condenser rejects ``Q_c = Q_e + W``; condensing temperature is the leaving condenser
  water temperature plus ``Q_c / UA_cond``.

Faults (severities in [0, 1]): a low refrigerant charge starves the evaporator (less
wetted surface: lower UA_evap, lower evaporating pressure, higher superheat, and a cap on
capacity); condenser tube fouling lowers UA_cond (higher condensing pressure, more power,
lower COP). Temperatures move by exact first-order lags; stable at any step length.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.twin.physics.common import PIParams, PIState, clamp, lag, pi_step
from agent.twin.physics.heat_exchanger import WATER_KW_PER_M3H_K
from agent.twin.physics.refrigerant import saturation_bar_abs


@dataclass(frozen=True)
class ChillerParams:
    """Size, heat exchangers, efficiency, control and fault effects."""

    capacity_kw: float = 900.0
    ua_evap_kw_k: float = 260.0
    ua_cond_kw_k: float = 300.0
    #: Share of the Carnot COP the compressor reaches.
    carnot_efficiency: float = 0.55
    chws_setpoint_c: float = 6.5
    #: Reverse acting on the supply temperature: a warm supply (negative error) loads up.
    capacity_control: PIParams = field(
        default_factory=lambda: PIParams(kp=-18.0, ti_s=120.0, bias=60.0)
    )
    capacity_tau_s: float = 20.0
    temp_tau_s: float = 60.0
    motor_voltage_v: float = 400.0
    power_factor: float = 0.88
    superheat_k: float = 5.0
    #: A fully lost charge leaves this share of evaporator UA and of capacity.
    low_charge_ua_fraction: float = 0.35
    low_charge_capacity_fraction: float = 0.55
    low_charge_superheat_k: float = 14.0
    #: A fully fouled condenser keeps this share of its UA.
    fouled_cond_ua_fraction: float = 0.3


@dataclass
class ChillerState:
    """Water temperatures, capacity, refrigerant conditions, power."""

    chws_c: float = 6.5
    chwr_c: float = 12.0
    cw_leaving_c: float = 32.5
    capacity_pct: float = 60.0
    evap_duty_kw: float = 500.0
    cond_duty_kw: float = 600.0
    evap_sat_c: float = 3.0
    cond_sat_c: float = 35.0
    evap_bar_abs: float = 3.3
    cond_bar_abs: float = 8.9
    superheat_k: float = 5.0
    power_kw: float = 95.0
    cop: float = 5.3
    current_a: float = 155.0
    controller: PIState = field(default_factory=PIState)


def chiller_step(
    p: ChillerParams,
    s: ChillerState,
    *,
    chw_flow_m3h: float,
    chwr_c: float,
    cw_flow_m3h: float,
    cw_entering_c: float,
    low_charge: float,
    cond_fouling: float,
    dt: float,
    setpoint_c: float | None = None,
) -> None:
    """Advance the chiller by ``dt`` seconds given its water-side conditions."""
    target = p.chws_setpoint_c if setpoint_c is None else setpoint_c
    low = clamp(low_charge, 0.0, 1.0)
    command = pi_step(p.capacity_control, s.controller, target - s.chws_c, dt)
    s.capacity_pct = lag(s.capacity_pct, command, p.capacity_tau_s, dt)
    max_kw = p.capacity_kw * (1.0 - (1.0 - p.low_charge_capacity_fraction) * low)
    c_chw = max(chw_flow_m3h, 1.0) * WATER_KW_PER_M3H_K
    # What the capacity command removes, never more than the water can give down to 1 °C.
    duty = min(s.capacity_pct / 100.0 * p.capacity_kw, max_kw, c_chw * max(chwr_c - 1.0, 0.0))
    s.chwr_c = chwr_c
    s.chws_c = lag(s.chws_c, chwr_c - duty / c_chw, p.temp_tau_s, dt)
    s.evap_duty_kw = lag(s.evap_duty_kw, duty, p.temp_tau_s, dt)
    ua_e = p.ua_evap_kw_k * (1.0 - (1.0 - p.low_charge_ua_fraction) * low)
    evap_sat = s.chws_c - s.evap_duty_kw / ua_e
    ua_c = p.ua_cond_kw_k * (1.0 - (1.0 - p.fouled_cond_ua_fraction) * clamp(cond_fouling, 0, 1))
    c_cw = max(cw_flow_m3h, 1.0) * WATER_KW_PER_M3H_K
    # Solve condensing temperature and power together by a few fixed-point sweeps (the
    # COP depends on the lift, the lift on the rejected heat); converges in 3-4 sweeps.
    power = s.evap_duty_kw / max(s.cop, 1.0)
    cond_sat = s.cond_sat_c
    for _ in range(6):
        rejected = s.evap_duty_kw + power
        cw_leaving = cw_entering_c + rejected / c_cw
        cond_sat = cw_leaving + rejected / ua_c
        lift = max(cond_sat - evap_sat, 5.0)
        cop = p.carnot_efficiency * (evap_sat + 273.15) / lift
        power = s.evap_duty_kw / max(cop, 1.0) + 0.04 * p.capacity_kw / 10.0
    s.cond_duty_kw = s.evap_duty_kw + power
    s.cw_leaving_c = lag(s.cw_leaving_c, cw_entering_c + s.cond_duty_kw / c_cw, p.temp_tau_s, dt)
    s.evap_sat_c = lag(s.evap_sat_c, evap_sat, p.temp_tau_s / 3.0, dt)
    s.cond_sat_c = lag(s.cond_sat_c, cond_sat, p.temp_tau_s / 3.0, dt)
    s.evap_bar_abs = saturation_bar_abs(s.evap_sat_c)
    s.cond_bar_abs = saturation_bar_abs(s.cond_sat_c)
    s.superheat_k = lag(s.superheat_k, p.superheat_k + p.low_charge_superheat_k * low**1.2,
                        p.temp_tau_s, dt)
    s.power_kw = lag(s.power_kw, power, p.capacity_tau_s, dt)
    s.cop = s.evap_duty_kw / max(s.power_kw, 1.0)
    s.current_a = s.power_kw * 1000.0 / (1.732 * p.motor_voltage_v * p.power_factor)
