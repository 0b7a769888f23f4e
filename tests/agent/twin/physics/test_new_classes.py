"""The equipment models added for the test plants: physically sensible directions, and
stable at long steps (the twin's what-if and the history pre-fill step far)."""

from __future__ import annotations

import math

import pytest

from agent.twin.physics.chiller import ChillerParams, ChillerState, chiller_step
from agent.twin.physics.cooling_tower import (
    CoolingTowerParams,
    CoolingTowerState,
    cooling_tower_step,
    tower_effectiveness,
)
from agent.twin.physics.dosing import DosingParams, DosingState, dosing_step
from agent.twin.physics.fan import FanParams, FanState, fan_airflow, fan_step
from agent.twin.physics.hydraulics import PumpCurve, parallel_flow
from agent.twin.physics.refrigerant import saturation_bar_abs, saturation_temp_c


def _chiller(low_charge: float, fouling: float, dt: float, steps: int) -> ChillerState:
    p, s = ChillerParams(), ChillerState()
    for _ in range(steps):
        chiller_step(p, s, chw_flow_m3h=110.0, chwr_c=11.5, cw_flow_m3h=170.0,
                     cw_entering_c=26.0, low_charge=low_charge, cond_fouling=fouling, dt=dt)
    return s


def test_chiller_holds_its_setpoint_and_faults_move_the_right_way() -> None:
    healthy = _chiller(0.0, 0.0, 2.0, 3000)
    assert healthy.chws_c == pytest.approx(6.5, abs=0.1)
    low = _chiller(1.0, 0.0, 2.0, 3000)
    fouled = _chiller(0.0, 1.0, 2.0, 3000)
    assert low.evap_bar_abs < healthy.evap_bar_abs and low.superheat_k > healthy.superheat_k
    assert fouled.cond_bar_abs > healthy.cond_bar_abs and fouled.power_kw > healthy.power_kw
    assert fouled.cop < healthy.cop


def test_chiller_stays_finite_at_long_steps() -> None:
    s = _chiller(0.5, 0.5, 600.0, 50)
    assert all(math.isfinite(v) for v in (s.chws_c, s.cond_bar_abs, s.power_kw, s.cop))
    assert 0.0 <= s.capacity_pct <= 100.0


def test_refrigerant_saturation_round_trips() -> None:
    assert saturation_bar_abs(0.0) == pytest.approx(2.93, abs=0.01)
    assert saturation_temp_c(saturation_bar_abs(35.0)) == pytest.approx(35.0, abs=1e-6)


def test_tower_fan_speeds_up_when_the_fan_degrades() -> None:
    results = []
    for degraded in (0.0, 1.0):
        p, s = CoolingTowerParams(ntu_design=0.9, cold_setpoint_c=26.0), CoolingTowerState()
        for _ in range(1500):
            cooling_tower_step(p, s, hot_water_c=29.5, water_m3h=170.0, wet_bulb_c=21.0,
                               fan_degradation=degraded, fill_fouling=0.0, ambient_c=27.0,
                               dt=2.0)
        results.append(s)
    healthy, degraded_state = results
    assert healthy.cold_water_c == pytest.approx(26.0, abs=0.2)
    assert degraded_state.fan_speed_pct > healthy.fan_speed_pct + 20.0
    p = CoolingTowerParams()
    assert tower_effectiveness(p, 1.0, 160.0) > tower_effectiveness(p, 0.5, 160.0)
    assert tower_effectiveness(p, 1.0, 160.0, fouling=1.0) < tower_effectiveness(p, 1.0, 160.0)


def test_fan_laws_and_belt_slip() -> None:
    p = FanParams()
    assert fan_airflow(p, 0.5, p.filter_clean_k) == pytest.approx(
        0.5 * fan_airflow(p, 1.0, p.filter_clean_k))
    states = []
    for slip in (0.0, 1.0):
        s = FanState()
        for _ in range(100):
            fan_step(p, s, speed_frac=0.85, clogging=0.0, belt_slip=slip, wear=0.0,
                     ambient_c=25.0, dt=5.0)
        states.append(s)
    assert states[1].airflow_m3h < 0.75 * states[0].airflow_m3h
    assert states[1].current_a < states[0].current_a
    assert states[1].motor_rpm == pytest.approx(states[0].motor_rpm)


def test_lost_prime_lowers_the_residual_once_the_stroke_runs_out() -> None:
    residuals = []
    for lost in (0.0, 1.0):
        # A pump with little headroom: the controller cannot make up for the lost prime.
        p, s = DosingParams(max_flow_l_h=4.0), DosingState()
        for _ in range(2000):
            dosing_step(p, s, water_flow_m3h=180.0, demand_mg_l=0.35, lost_prime=lost, dt=2.0)
        residuals.append((s.residual_mg_l, s.stroke_pct))
    (healthy, stroke), (starved, full_stroke) = residuals
    assert healthy == pytest.approx(p.dose_setpoint_mg_l - 0.35, abs=0.03)
    assert starved < healthy / 2 and full_stroke > stroke


def test_parallel_pumps_share_the_flow() -> None:
    curve = PumpCurve(shutoff_dp_bar=6.0, curve_k=2e-4)
    one = parallel_flow(curve, pumps=1, speed_frac=1.0, static_dp_bar=2.0, resistance=1e-4)
    two = parallel_flow(curve, pumps=2, speed_frac=1.0, static_dp_bar=2.0, resistance=1e-4)
    assert one < two < 2 * one
    assert parallel_flow(curve, pumps=2, speed_frac=0.5, static_dp_bar=2.0,
                         resistance=1e-4) == 0.0
