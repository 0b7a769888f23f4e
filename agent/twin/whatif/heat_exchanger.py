"""What-if of a heat exchanger with a coolant temperature controller (plant.physics).

Fitted from the historian (least squares over the fit window):
- ``ua_kw_k``: the effective heat-transfer coefficient (fouling lowers it), minimizing the
  squared error of the effectiveness-NTU duty against the recorded HeatDuty;
- ``coolant_max_m3h``: the coolant supply at full opening, from CoolantFlow =
  supply x (valve/100)^1.3 (a lost supply lowers it).
The product flow is derived from the duty and the hot-side temperature drop. Changes: the
outlet ``setpoint``; actions ``clean`` (UA back to the clean value), ``restore_cooling``,
``clear_fault`` (both).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from agent.twin.physics.heat_exchanger import (
    WATER_KW_PER_M3H_K,
    HeatExchangerParams,
    HeatExchangerState,
    effectiveness,
    heat_exchanger_step,
)
from agent.twin.whatif.base import (
    OUTPUT_EVERY_S,
    STEP_S,
    Change,
    Fitted,
    Situation,
    Trajectory,
    fitted_value,
    least_squares_scale,
    overridable,
    require_samples,
    site_params,
)
from agent.twin.whatif.roles import VarRole, role

_OUT = (
    "HotOutletTemperature",
    "ColdOutletTemperature",
    "CoolantFlow",
    "CoolantValvePosition",
    "HeatDuty",
)


def _duty(ua: float, c_hot: np.ndarray, c_cold: np.ndarray, dt_in: np.ndarray) -> np.ndarray:
    c_min, c_max = np.minimum(c_hot, c_cold), np.maximum(c_hot, c_cold)
    eff = np.array([effectiveness(ua / a, a / b) for a, b in zip(c_min, c_max, strict=True)])
    out: np.ndarray = eff * c_min * dt_in
    return out


class HeatExchangerWhatIf:
    """Counter-flow cooler with a PI controller on the product outlet temperature."""

    eq_class: str = "heat_exchanger"
    required: tuple[str, ...] = (
        "HotInletTemperature",
        "HotOutletTemperature",
        "ColdInletTemperature",
        "CoolantFlow",
        "CoolantValvePosition",
        "HeatDuty",
    )
    #: The product is the hot side (inlet/outlet), the coolant the cold one (supply/return).
    roles: dict[str, VarRole] = {
        "HotInletTemperature": role("inlet temperature"),
        "HotOutletTemperature": role("outlet temperature"),
        "ColdInletTemperature": role("supply temperature"),
        "ColdOutletTemperature": role("return temperature"),
        "CoolantFlow": role("flow"),
        "CoolantValvePosition": role("position"),
        "HeatDuty": role("power"),
    }
    settables: dict[str, tuple[str, str]] = {
        "setpoint": ("°C", "product outlet temperature setpoint")
    }
    actions: dict[str, str] = {
        "clean": "clean the tubes: heat transfer back to the clean value",
        "restore_cooling": "restore the full cooling-water supply",
        "clear_fault": "both: clean and restore the supply",
    }
    parameter_names: frozenset[str] = overridable(HeatExchangerParams, "temperature_control")

    def params(self, sit: Situation) -> HeatExchangerParams:
        """The design parameters, with the site's overrides."""
        return site_params(HeatExchangerParams(), self.parameter_names, sit)

    def _c_hot(self, sit: Situation) -> float:
        drop = sit.series("HotInletTemperature") - sit.series("HotOutletTemperature")
        duty = sit.series("HeatDuty")
        ok = drop > 0.5
        return float(np.median(duty[ok] / drop[ok])) if ok.any() else 30.0 * WATER_KW_PER_M3H_K

    def fit(self, sit: Situation) -> list[Fitted]:
        """Fit UA (golden-section search on the duty error) and the coolant supply."""
        n = require_samples(sit)
        c_hot = np.full(n, self._c_hot(sit))
        c_cold = np.maximum(sit.series("CoolantFlow"), 0.05) * WATER_KW_PER_M3H_K
        dt_in = sit.series("HotInletTemperature") - sit.series("ColdInletTemperature")
        duty = sit.series("HeatDuty")

        def err(log_ua: float) -> float:
            return float(np.mean((duty - _duty(math.exp(log_ua), c_hot, c_cold, dt_in)) ** 2))

        lo, hi = math.log(1.0), math.log(2000.0)
        g = (math.sqrt(5.0) - 1.0) / 2.0
        for _ in range(60):
            a, b = hi - g * (hi - lo), lo + g * (hi - lo)
            if err(a) < err(b):
                hi = b
            else:
                lo = a
        ua = math.exp((lo + hi) / 2.0)
        opening = np.clip(sit.series("CoolantValvePosition") / 100.0, 0.0, 1.0) ** 1.3
        supply, rms = least_squares_scale(sit.series("CoolantFlow"), opening)
        return [
            Fitted(
                "ua_kw_k",
                ua,
                "kW/K",
                n,
                math.sqrt(err(math.log(ua))),
                "least squares of effectiveness-NTU duty vs HeatDuty",
            ),
            Fitted(
                "coolant_max_m3h",
                supply,
                "m³/h",
                n,
                rms,
                "least squares of CoolantFlow = supply x opening^1.3",
            ),
        ]

    def valid_range(self, variable: str, sit: Situation) -> tuple[float, float]:
        """A setpoint must lie between the coolant and product inlet temperatures."""
        return sit.now("ColdInletTemperature") + 3.0, sit.now("HotInletTemperature") - 3.0

    def run(
        self, sit: Situation, fits: list[Fitted], change: Change | None, hours: float
    ) -> Trajectory:
        """Step heat_exchanger_step from the latest state."""
        design = self.params(sit)
        ua = fitted_value(fits, "ua_kw_k")
        supply = fitted_value(fits, "coolant_max_m3h")
        setpoint = design.outlet_setpoint_c
        if change is not None:
            if change.action in ("clean", "clear_fault"):
                ua = max(ua, design.ua_kw_k)
            if change.action in ("restore_cooling", "clear_fault"):
                supply = max(supply, design.coolant_max_m3h)
            if change.variable == "setpoint" and change.value is not None:
                setpoint = change.value
        p = dataclasses.replace(
            design, ua_kw_k=ua, coolant_max_m3h=supply, outlet_setpoint_c=setpoint
        )
        s = HeatExchangerState(
            hot_in_c=sit.now("HotInletTemperature"),
            hot_out_c=sit.now("HotOutletTemperature"),
            cold_in_c=sit.now("ColdInletTemperature"),
            cold_out_c=sit.latest.get(sit.tag("ColdOutletTemperature"), 40.0),
            coolant_flow_m3h=sit.now("CoolantFlow"),
            valve_pct=sit.now("CoolantValvePosition"),
            duty_kw=sit.now("HeatDuty"),
        )
        # Start the controller where it is: the integral that gives today's valve command.
        pi = p.temperature_control
        error = design.outlet_setpoint_c - s.hot_out_c
        s.controller.integral = ((s.valve_pct - pi.bias) / pi.kp - error) * pi.ti_s
        flow = self._c_hot(sit) / WATER_KW_PER_M3H_K
        hot_in, coolant_in = s.hot_in_c, s.cold_in_c
        out: Trajectory = {v: [] for v in _OUT}
        steps = int(hours * 3600.0 / STEP_S)
        every = int(OUTPUT_EVERY_S / STEP_S)
        for i in range(steps + 1):
            if i % every == 0:
                for v, x in zip(
                    _OUT,
                    (s.hot_out_c, s.cold_out_c, s.coolant_flow_m3h, s.valve_pct, s.duty_kw),
                    strict=True,
                ):
                    out[v].append(x)
            heat_exchanger_step(
                p,
                s,
                product_flow_m3h=flow,
                hot_in_c=hot_in,
                coolant_in_c=coolant_in,
                fouling=0.0,
                supply_loss=0.0,
                dt=STEP_S,
            )
        return out
