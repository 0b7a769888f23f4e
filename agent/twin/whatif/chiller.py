"""What-if of a water-cooled chiller holding its chilled-water supply temperature
(agent.twin.physics.chiller).

Fitted from the historian (the water flows are usually on the pumps, so they are derived
from the chiller's own heat balance):
- ``chw_flow_m3h``: chilled-water flow from duty = capacity x load and the
  return - supply difference;
- ``cw_flow_m3h``: condenser-water flow from the rejected heat (duty + power) and the
  condenser leaving - entering difference;
- ``ua_cond_kw_k``: the condenser's heat transfer (fouling lowers it), by least squares of
  the model's steady power against the recorded power (golden-section search);
- ``chws_setpoint_c``: the setpoint tag when there is one, else the mean supply.
Return and condenser entering water held at their latest values. Changes: ``setpoint``
(chilled-water supply); actions ``clean_condenser``, ``clear_fault`` (same).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from agent.errors import ToolError
from agent.twin.physics.chiller import ChillerParams, ChillerState, chiller_step
from agent.twin.physics.common import PIParams
from agent.twin.physics.heat_exchanger import WATER_KW_PER_M3H_K
from agent.twin.whatif.base import (
    OUTPUT_EVERY_S,
    STEP_S,
    Change,
    Fitted,
    Situation,
    Trajectory,
    fitted_value,
    overridable,
    require_samples,
    site_params,
)
from agent.twin.whatif.roles import VarRole, role

_OUT = ("SupplyTemperature", "Load", "Power", "Current", "CondenserLeavingTemperature")


def _steady_power(p: ChillerParams, load_pct: float, chwr: float, chw_flow: float,
                  cw_in: float, cw_flow: float) -> float:
    """The chiller's power at a held load, run to steady state (exact lags: long steps)."""
    held = dataclasses.replace(p, capacity_control=PIParams(kp=0.0, ti_s=1.0, bias=load_pct))
    s = ChillerState(capacity_pct=load_pct)
    for _ in range(4):
        chiller_step(held, s, chw_flow_m3h=chw_flow, chwr_c=chwr, cw_flow_m3h=cw_flow,
                     cw_entering_c=cw_in, low_charge=0.0, cond_fouling=0.0, dt=1.0e4)
    return s.power_kw


class ChillerWhatIf:
    """Evaporator, compressor, condenser and the capacity controller."""

    eq_class: str = "chiller"
    required: tuple[str, ...] = (
        "SupplyTemperature",
        "ReturnTemperature",
        "CondenserEnteringTemperature",
        "CondenserLeavingTemperature",
        "Load",
        "Power",
    )
    roles: dict[str, VarRole] = {
        "SupplyTemperature": role("supply temperature"),
        "ReturnTemperature": role("return temperature"),
        "CondenserEnteringTemperature": role("condenser inlet temperature"),
        "CondenserLeavingTemperature": role("condenser outlet temperature"),
        "Load": role("load"),
        "Power": role("power"),
        "Current": role("current"),
        "Setpoint": role("supply temperature", "setpoint"),
    }
    settables: dict[str, tuple[str, str]] = {
        "setpoint": ("°C", "chilled-water supply temperature setpoint")
    }
    actions: dict[str, str] = {
        "clean_condenser": "clean the condenser tubes: heat transfer back to the design value",
        "clear_fault": "same as clean_condenser",
    }
    parameter_names: frozenset[str] = overridable(ChillerParams, "capacity_control")

    def params(self, sit: Situation) -> ChillerParams:
        """The design parameters, with the site's overrides."""
        return site_params(ChillerParams(), self.parameter_names, sit)

    def fit(self, sit: Situation) -> list[Fitted]:
        """Water flows from the heat balance; condenser UA from the power."""
        n = require_samples(sit)
        p = self.params(sit)
        load = sit.series("Load")
        duty = np.clip(load, 0.0, 100.0) / 100.0 * p.capacity_kw
        chw_dt = sit.series("ReturnTemperature") - sit.series("SupplyTemperature")
        cw_dt = (sit.series("CondenserLeavingTemperature")
                 - sit.series("CondenserEnteringTemperature"))
        power = sit.series("Power")
        ok = (chw_dt > 0.5) & (cw_dt > 0.5) & (load > 5.0)
        if ok.sum() < 3:
            raise ToolError(
                f"{sit.equipment.name} did not run under load in the recorded data",
                fix="record the chiller while it carries load (`plantagent twin record`)",
            )
        chw_flow = float(np.median(duty[ok] / chw_dt[ok])) / WATER_KW_PER_M3H_K
        cw_flow = float(np.median((duty[ok] + power[ok]) / cw_dt[ok])) / WATER_KW_PER_M3H_K
        rows = list(zip(load[ok], sit.series("ReturnTemperature")[ok],
                        sit.series("CondenserEnteringTemperature")[ok], power[ok], strict=True))

        def err(log_ua: float) -> float:
            q = dataclasses.replace(p, ua_cond_kw_k=math.exp(log_ua))
            return float(np.mean([(w - _steady_power(q, c, r, chw_flow, e, cw_flow)) ** 2
                                  for c, r, e, w in rows]))

        lo, hi = math.log(20.0), math.log(5000.0)
        g = (math.sqrt(5.0) - 1.0) / 2.0
        for _ in range(30):
            a, b = hi - g * (hi - lo), lo + g * (hi - lo)
            if err(a) < err(b):
                hi = b
            else:
                lo = a
        ua = math.exp((lo + hi) / 2.0)
        supply = sit.series("SupplyTemperature")
        # A constant setpoint is recorded once (on change), so it is read as the latest.
        if sit.tag("Setpoint") in sit.latest:
            setpoint, how = sit.latest[sit.tag("Setpoint")], "the setpoint tag"
        else:
            setpoint, how = float(np.mean(supply)), "mean supply temperature (no setpoint tag)"
        k = int(ok.sum())
        return [
            Fitted("chw_flow_m3h", chw_flow, "m³/h", k, None,
                   "median of capacity x load / (return - supply)"),
            Fitted("cw_flow_m3h", cw_flow, "m³/h", k, None,
                   "median of (duty + power) / (condenser leaving - entering)"),
            Fitted("ua_cond_kw_k", ua, "kW/K", k, math.sqrt(err(math.log(ua))),
                   "least squares of the model's steady power vs the recorded power"),
            Fitted("chws_setpoint_c", setpoint, "°C", n, float(np.std(supply)), how),
        ]

    def valid_range(self, variable: str, sit: Situation) -> tuple[float, float]:
        """A supply setpoint above freezing margin and below the return water."""
        return 4.0, sit.now("ReturnTemperature") - 1.0

    def run(
        self, sit: Situation, fits: list[Fitted], change: Change | None, hours: float
    ) -> Trajectory:
        """Step chiller_step from the latest state."""
        design = self.params(sit)
        ua = fitted_value(fits, "ua_cond_kw_k")
        held = fitted_value(fits, "chws_setpoint_c")
        setpoint = held
        if change is not None:
            if change.action in ("clean_condenser", "clear_fault"):
                ua = max(ua, design.ua_cond_kw_k)
            if change.variable == "setpoint" and change.value is not None:
                setpoint = change.value
        p = dataclasses.replace(design, ua_cond_kw_k=ua)
        load, power = sit.now("Load"), sit.now("Power")
        s = ChillerState(
            chws_c=sit.now("SupplyTemperature"),
            chwr_c=sit.now("ReturnTemperature"),
            cw_leaving_c=sit.now("CondenserLeavingTemperature"),
            capacity_pct=load,
            evap_duty_kw=load / 100.0 * p.capacity_kw,
            power_kw=power,
            cop=load / 100.0 * p.capacity_kw / max(power, 1.0),
        )
        s.current_a = sit.latest.get(sit.tag("Current"), s.current_a)
        # Start the controller where it is: the integral that gives today's load.
        pi = p.capacity_control
        s.controller.integral = ((load - pi.bias) / pi.kp - (held - s.chws_c)) * pi.ti_s
        chwr, cw_in = s.chwr_c, sit.now("CondenserEnteringTemperature")
        chw_flow, cw_flow = fitted_value(fits, "chw_flow_m3h"), fitted_value(fits, "cw_flow_m3h")
        out: Trajectory = {v: [] for v in _OUT}
        steps, every = int(hours * 3600.0 / STEP_S), int(OUTPUT_EVERY_S / STEP_S)
        for i in range(steps + 1):
            if i % every == 0:
                for v, x in zip(_OUT, (s.chws_c, s.capacity_pct, s.power_kw, s.current_a,
                                       s.cw_leaving_c), strict=True):
                    out[v].append(x)
            chiller_step(p, s, chw_flow_m3h=chw_flow, chwr_c=chwr, cw_flow_m3h=cw_flow,
                         cw_entering_c=cw_in, low_charge=0.0, cond_fouling=0.0, dt=STEP_S,
                         setpoint_c=setpoint)
        return out
