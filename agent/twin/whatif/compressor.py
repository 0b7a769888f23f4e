"""What-if of a screw air compressor with receiver pressure control (agent.twin.physics.compressor).

Fitted from the historian (least squares over the fit window):
- ``valve_leak``: the share of a fully leaking valve, from AirFlow = capacity x load x
  (1 - loss x leak), with the load read from the motor current;
- ``air_demand_m3h``: the line's air demand, from the receiver mass balance (delivered air
  minus the pressure trend x volume; held constant);
- ``ambient_c``: the ambient temperature implied by the discharge temperature.
Changes: the receiver pressure ``setpoint`` (bar); actions ``repair_valve``/``clear_fault``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from agent.twin.physics.common import ATMOSPHERE_BAR
from agent.twin.physics.compressor import CompressorParams, CompressorState, compressor_step
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
    "DischargePressure",
    "DischargeTemperature",
    "OilTemperature",
    "OilPressure",
    "MotorCurrent",
    "AirFlow",
    "DutyCycle",
)


class CompressorWhatIf:
    """Compressor, receiver and pressure controller."""

    eq_class: str = "compressor"
    required: tuple[str, ...] = (
        "DischargePressure",
        "DischargeTemperature",
        "OilTemperature",
        "MotorCurrent",
        "AirFlow",
    )
    roles: dict[str, VarRole] = {
        "DischargePressure": role("discharge pressure"),
        "DischargeTemperature": role("discharge temperature"),
        "OilTemperature": role("oil temperature"),
        "OilPressure": role("oil pressure"),
        "MotorCurrent": role("current"),
        "AirFlow": role("flow"),
        "DutyCycle": role("load"),
    }
    settables: dict[str, tuple[str, str]] = {
        "setpoint": ("bar", "receiver pressure setpoint (gauge)")
    }
    actions: dict[str, str] = {
        "repair_valve": "repair the leaking discharge/check valve",
        "clear_fault": "same as repair_valve",
    }
    parameter_names: frozenset[str] = overridable(CompressorParams,
        "pressure_control",
        "bearing",
    )

    def params(self, sit: Situation) -> CompressorParams:
        """Design parameters with the site's overrides."""
        return site_params(CompressorParams(), self.parameter_names, sit)

    def _load(self, p: CompressorParams, current: np.ndarray) -> np.ndarray:
        span = p.full_load_current_a - p.unloaded_current_a
        out: np.ndarray = np.clip((current - p.unloaded_current_a) / span, 0.0, 1.0)
        return out

    def fit(self, sit: Situation) -> list[Fitted]:
        """Fit the valve leak, the air demand and the ambient temperature."""
        n = require_samples(sit)
        p = self.params(sit)
        load = self._load(p, sit.series("MotorCurrent"))
        air = sit.series("AirFlow")
        k, rms = least_squares_scale(air, p.capacity_m3h * load)
        leak = float(np.clip((1.0 - k) / p.leak_loss_fraction, 0.0, 1.0))
        hot = (
            sit.series("DischargeTemperature")
            - p.discharge_temp_base_c
            - p.discharge_temp_load_k * load
            - p.discharge_temp_leak_k * leak
        )
        # Receiver mass balance: demand = delivered - dP/dt x volume / atmosphere.
        slope_bar_s = float(np.polyfit(sit.times, sit.series("DischargePressure"), 1)[0])
        demand = air - slope_bar_s * 3600.0 * p.receiver_m3 / ATMOSPHERE_BAR
        return [
            Fitted(
                "valve_leak",
                leak,
                "0..1",
                n,
                rms,
                "least squares of AirFlow = capacity x load x (1 - loss x leak)",
            ),
            Fitted(
                "air_demand_m3h",
                float(np.mean(demand)),
                "m³/h",
                n,
                float(np.std(demand)),
                "delivered air minus the receiver's pressure trend (mass balance)",
            ),
            Fitted(
                "ambient_c",
                25.0 + float(np.mean(hot)),
                "°C",
                n,
                float(np.std(hot)),
                "mean of discharge temperature - load and leak heating",
            ),
        ]

    def valid_range(self, variable: str, sit: Situation) -> tuple[float, float]:
        """Setpoints the receiver and its controller are modelled for."""
        return 5.0, 9.0

    def run(
        self, sit: Situation, fits: list[Fitted], change: Change | None, hours: float
    ) -> Trajectory:
        """Step compressor_step from the latest state."""
        p = self.params(sit)
        leak = fitted_value(fits, "valve_leak")
        if change is not None and change.action in ("repair_valve", "clear_fault"):
            leak = 0.0
        if change is not None and change.variable == "setpoint" and change.value is not None:
            p = dataclasses.replace(p, pressure_setpoint_bar=change.value)
        demand = fitted_value(fits, "air_demand_m3h")
        ambient = fitted_value(fits, "ambient_c")
        load_now = float(self._load(p, np.array([sit.now("MotorCurrent")]))[0]) * 100.0
        s = CompressorState(
            pressure_bar_g=sit.now("DischargePressure"),
            load_pct=load_now,
            air_flow_m3h=sit.now("AirFlow"),
            discharge_temp_c=sit.now("DischargeTemperature"),
            oil_temp_c=sit.now("OilTemperature"),
            current_a=sit.now("MotorCurrent"),
            duty_pct=sit.latest.get(sit.tag("DutyCycle"), load_now),
        )
        s.oil_pressure_bar = sit.latest.get(sit.tag("OilPressure"), 2.8)
        pi = p.pressure_control
        error = CompressorParams().pressure_setpoint_bar - s.pressure_bar_g
        if "pressure_setpoint_bar" in sit.params:
            error = sit.params["pressure_setpoint_bar"] - s.pressure_bar_g
        s.controller.integral = ((load_now - pi.bias) / pi.kp - error) * pi.ti_s
        out: Trajectory = {v: [] for v in _OUT}
        steps, every = int(hours * 3600.0 / STEP_S), int(OUTPUT_EVERY_S / STEP_S)
        for i in range(steps + 1):
            if i % every == 0:
                for v, x in zip(
                    _OUT,
                    (
                        s.pressure_bar_g,
                        s.discharge_temp_c,
                        s.oil_temp_c,
                        s.oil_pressure_bar,
                        s.current_a,
                        s.air_flow_m3h,
                        s.duty_pct,
                    ),
                    strict=True,
                ):
                    out[v].append(x)
            compressor_step(
                p, s, demand_m3h=demand, leak=leak, wear=0.0, ambient_c=ambient, dt=STEP_S
            )
        return out
