"""What-if of an induced-draft cooling tower with a VFD fan (agent.twin.physics.cooling_tower).

Fitted from the historian:
- ``fan_degradation``: 0..1, how far the fan has lost its airflow (slipping belt, eroded
  blades), from its power at its speed (a degraded fan draws less; least squares); without
  a fan power tag the fan is assumed healthy and says so;
- ``ntu_design``: the tower's thermal size, by least squares of the recorded effectiveness
  (entering - leaving) / (entering - wet bulb) against the NTU model at the airflow
  (golden-section search);
- ``cold_setpoint_c``: the leaving-water temperature the fan controller holds (its
  setpoint tag when the tower has one, else the mean leaving temperature).
The entering water and the wet bulb (the outdoor air temperature) are held at their latest
values; the water flow at the design flow. Changes: ``setpoint`` (leaving water); actions
``repair_fan`` (no degradation), ``clear_fault`` (same).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from agent.errors import ToolError
from agent.twin.physics.cooling_tower import (
    CoolingTowerParams,
    CoolingTowerState,
    cooling_tower_step,
    tower_effectiveness,
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

_OUT = ("LeavingWaterTemperature", "FanSpeed", "FanPower")


class CoolingTowerWhatIf:
    """Tower basin, fan and the PI controller holding the leaving-water temperature."""

    eq_class: str = "cooling_tower"
    required: tuple[str, ...] = (
        "LeavingWaterTemperature",
        "EnteringWaterTemperature",
        "WetBulbTemperature",
        "FanSpeed",
    )
    roles: dict[str, VarRole] = {
        "LeavingWaterTemperature": role("outlet temperature"),
        "EnteringWaterTemperature": role("inlet temperature"),
        "WetBulbTemperature": role("air temperature"),
        "FanSpeed": role("speed"),
        "FanPower": role("power"),
        "Setpoint": role("outlet temperature", "setpoint"),
    }
    settables: dict[str, tuple[str, str]] = {
        "setpoint": ("°C", "leaving (cold) water temperature setpoint")
    }
    actions: dict[str, str] = {
        "repair_fan": "repair the fan (belt, blades): full airflow at its speed",
        "clear_fault": "same as repair_fan",
    }
    parameter_names: frozenset[str] = overridable(CoolingTowerParams, "fan_control", "bearing")

    def params(self, sit: Situation) -> CoolingTowerParams:
        """The design parameters, with the site's overrides."""
        return site_params(CoolingTowerParams(), self.parameter_names, sit)

    def fit(self, sit: Situation) -> list[Fitted]:
        """Fan degradation from the effectiveness; the controller's setpoint."""
        n = require_samples(sit)
        p = self.params(sit)
        hot = sit.series("EnteringWaterTemperature")
        cold = sit.series("LeavingWaterTemperature")
        wet = sit.series("WetBulbTemperature")
        speed = np.clip(sit.series("FanSpeed") / 100.0, 0.0, 1.0)
        ok = (hot - wet) > 1.0
        if not ok.any():
            raise ToolError(
                "the entering water is not warmer than the wet bulb in the recorded data",
                fix="record the tower while it rejects heat",
            )
        eps = (hot[ok] - cold[ok]) / (hot[ok] - wet[ok])
        if sit.tag("FanPower") in sit.window:
            # A degraded fan draws less power at the same speed: power = rated x speed³ x
            # (1 - deg/2); this needs no knowledge of the tower's thermal size.
            k, rms_kw = least_squares_scale(sit.series("FanPower"), p.fan_rated_kw * speed**3)
            deg = float(np.clip(2.0 * (1.0 - k), 0.0, 1.0))
            deg_fit = Fitted("fan_degradation", deg, "0..1", n, rms_kw,
                             "least squares of fan power = rated x speed³ x (1 - deg/2)")
        else:
            deg = 0.0
            deg_fit = Fitted("fan_degradation", 0.0, "0..1", 0, None,
                             "assumed healthy (the tower has no fan power tag)")
        air = speed[ok] * (1.0 - p.degraded_air_fraction * deg)

        def err(log_ntu: float) -> float:
            q = dataclasses.replace(p, ntu_design=math.exp(log_ntu))
            model = np.array([tower_effectiveness(q, a, q.water_design_m3h) for a in air])
            return float(np.mean((eps - model) ** 2))

        lo, hi = math.log(0.05), math.log(10.0)
        g = (math.sqrt(5.0) - 1.0) / 2.0
        for _ in range(50):
            a, b = hi - g * (hi - lo), lo + g * (hi - lo)
            if err(a) < err(b):
                hi = b
            else:
                lo = a
        ntu = math.exp((lo + hi) / 2.0)
        # A constant setpoint is recorded once (on change), so it is read as the latest.
        if sit.tag("Setpoint") in sit.latest:
            setpoint, how = sit.latest[sit.tag("Setpoint")], "the setpoint tag"
        else:
            setpoint, how = float(np.mean(cold)), "mean leaving temperature (no setpoint tag)"
        return [
            deg_fit,
            Fitted("ntu_design", ntu, "-", int(ok.sum()), math.sqrt(err(math.log(ntu))),
                   "least squares of effectiveness (entering - leaving) / (entering - wet "
                   "bulb) vs the NTU model at the recorded airflow"),
            Fitted("cold_setpoint_c", setpoint, "°C", n, float(np.std(cold)), how),
        ]

    def valid_range(self, variable: str, sit: Situation) -> tuple[float, float]:
        """A leaving-water setpoint between the wet bulb (+2 K) and the entering water."""
        return sit.now("WetBulbTemperature") + 2.0, sit.now("EnteringWaterTemperature") - 0.5

    def run(
        self, sit: Situation, fits: list[Fitted], change: Change | None, hours: float
    ) -> Trajectory:
        """Step cooling_tower_step from the latest state."""
        p = dataclasses.replace(self.params(sit), ntu_design=fitted_value(fits, "ntu_design"))
        deg = fitted_value(fits, "fan_degradation")
        held = fitted_value(fits, "cold_setpoint_c")
        setpoint = held
        if change is not None:
            if change.action in ("repair_fan", "clear_fault"):
                deg = 0.0
            if change.variable == "setpoint" and change.value is not None:
                setpoint = change.value
        speed = sit.now("FanSpeed")
        s = CoolingTowerState(
            hot_water_c=sit.now("EnteringWaterTemperature"),
            cold_water_c=sit.now("LeavingWaterTemperature"),
            fan_speed_pct=speed,
            fan_kw=sit.latest.get(sit.tag("FanPower"), p.fan_rated_kw * (speed / 100.0) ** 3),
            airflow_pct=speed * (1.0 - p.degraded_air_fraction * deg),
        )
        # Start the controller where it is: the integral that gives today's fan speed.
        pi = p.fan_control
        s.controller.integral = ((speed - pi.bias) / pi.kp - (held - s.cold_water_c)) * pi.ti_s
        hot, wet = s.hot_water_c, sit.now("WetBulbTemperature")
        out: Trajectory = {v: [] for v in _OUT}
        steps, every = int(hours * 3600.0 / STEP_S), int(OUTPUT_EVERY_S / STEP_S)
        for i in range(steps + 1):
            if i % every == 0:
                for v, x in zip(_OUT, (s.cold_water_c, s.fan_speed_pct, s.fan_kw), strict=True):
                    out[v].append(x)
            cooling_tower_step(p, s, hot_water_c=hot, water_m3h=p.water_design_m3h,
                               wet_bulb_c=wet, fan_degradation=deg, fill_fouling=0.0,
                               ambient_c=wet, dt=STEP_S, setpoint_c=setpoint)
        return out
