"""What-if of a centrifugal fan with a filter in its system (air handlers, blowers;
agent.twin.physics.fan).

Fitted from the historian (least squares over the fit window):
- ``filter_k``: the filter's resistance from its pressure drop = k x airflow² (loading
  raises it);
- ``duct_k``: the rest of the system's resistance from the fan law at the recorded speed
  (a slipping belt or a closed damper shows up here as a stiffer system);
- ``current_scale``: recorded over modelled motor current (the motor's size is the
  site's, not the design's).
Changes: ``speed`` (percent of rated, the VFD command); actions ``replace_filter``
(clean resistance), ``clear_fault`` (same).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from agent.errors import ToolError
from agent.twin.physics.fan import FanParams, FanState, fan_step
from agent.twin.physics.motor import motor_current
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

_OUT = ("Airflow", "FilterDifferentialPressure", "MotorCurrent", "Speed")


def _shaft_kw(p: FanParams, flow: np.ndarray, filter_k: float) -> np.ndarray:
    dp = (p.duct_k + filter_k) * flow * flow
    out: np.ndarray = flow / 3600.0 * dp / 1000.0 / p.efficiency + 0.2
    return out


class FanWhatIf:
    """Fan curve against the duct and filter, the motor current, speed from the VFD."""

    eq_class: str = "fan"
    required: tuple[str, ...] = ("Speed", "Airflow", "FilterDifferentialPressure")
    roles: dict[str, VarRole] = {
        "Speed": role("speed", "measurement|output"),
        "Airflow": role("flow"),
        "FilterDifferentialPressure": role("differential_pressure"),
        "MotorCurrent": role("current"),
    }
    settables: dict[str, tuple[str, str]] = {"speed": ("%", "fan (VFD) speed command")}
    actions: dict[str, str] = {
        "replace_filter": "replace the filter: clean resistance",
        "clear_fault": "same as replace_filter",
    }
    parameter_names: frozenset[str] = overridable(FanParams, "motor", "bearing")

    def params(self, sit: Situation) -> FanParams:
        """The design parameters, with the site's overrides."""
        return site_params(FanParams(), self.parameter_names, sit)

    def fit(self, sit: Situation) -> list[Fitted]:
        """Filter and duct resistance, and the motor current's scale."""
        n = require_samples(sit)
        p = self.params(sit)
        flow = sit.series("Airflow")
        speed = sit.series("Speed") / 100.0
        if float(np.mean(flow)) <= 0.0 or float(np.mean(speed)) <= 0.05:
            raise ToolError(
                f"{sit.equipment.name} was not running in the recorded data",
                fix="record the fan while it runs (`plantagent twin record`)",
            )
        fk, rms = least_squares_scale(sit.series("FilterDifferentialPressure"), flow**2)
        # Fan law: flow = s x sqrt(shutoff / (curve + duct + filter)).
        duct = float(np.median(p.shutoff_pa * speed**2 / np.maximum(flow, 1.0) ** 2))
        duct = max(duct - p.curve_k - fk, 1e-9)
        fits = [
            Fitted("filter_k", fk, "Pa/(m³/h)²", n, rms,
                   "least squares of filter dP = k x airflow²"),
            Fitted("duct_k", duct, "Pa/(m³/h)²", n, None,
                   "median of the fan law at the recorded speed and airflow"),
        ]
        if sit.tag("MotorCurrent") in sit.window:
            q = dataclasses.replace(p, duct_k=duct)
            model = np.array([motor_current(q.motor, kw, s) for kw, s in
                              zip(_shaft_kw(q, flow, fk), speed, strict=True)])
            scale, rms_a = least_squares_scale(sit.series("MotorCurrent"), model)
            fits.append(Fitted("current_scale", scale, "-", n, rms_a,
                               "least squares of recorded vs modelled motor current"))
        return fits

    def valid_range(self, variable: str, sit: Situation) -> tuple[float, float]:
        """A speed command the fan law holds in: 20 to 100 % of rated."""
        return 20.0, 100.0

    def run(
        self, sit: Situation, fits: list[Fitted], change: Change | None, hours: float
    ) -> Trajectory:
        """Step fan_step from the latest state."""
        fk = fitted_value(fits, "filter_k")
        p = dataclasses.replace(self.params(sit), duct_k=fitted_value(fits, "duct_k"))
        speed = start = sit.now("Speed")
        if change is not None:
            if change.action in ("replace_filter", "clear_fault"):
                fk = min(fk, p.filter_clean_k)
            if change.variable == "speed" and change.value is not None:
                speed = change.value
        # The fitted filter resistance is the clean one times (1 + (factor-1) x clogging).
        p = dataclasses.replace(p, filter_clean_k=fk)
        names = {f.name for f in fits}
        scale = fitted_value(fits, "current_scale") if "current_scale" in names else 1.0
        s = FanState(airflow_m3h=sit.now("Airflow"),
                     filter_dp_pa=sit.now("FilterDifferentialPressure"))
        s.current_a = sit.latest.get(sit.tag("MotorCurrent"), s.current_a)
        out: Trajectory = {v: [] for v in _OUT}
        steps, every = int(hours * 3600.0 / STEP_S), int(OUTPUT_EVERY_S / STEP_S)
        for i in range(steps + 1):
            if i % every == 0:
                for v, x in zip(_OUT, (s.airflow_m3h, s.filter_dp_pa,
                                       s.current_a * (scale if i else 1.0),
                                       speed if i else start),
                                strict=True):
                    out[v].append(x)
            fan_step(p, s, speed_frac=speed / 100.0, clogging=0.0, belt_slip=0.0, wear=0.0,
                     ambient_c=25.0, dt=STEP_S)
        if sit.tag("MotorCurrent") not in sit.latest:
            del out["MotorCurrent"]
        return out
