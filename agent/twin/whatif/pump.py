"""What-if of a centrifugal pump and the strainer on its suction (agent.twin.physics.pump/filter).

Fitted from the historian (least squares over the fit window):
- ``filter_resistance``: the strainer's resistance from DifferentialPressure = R x Flow²
  (clogging raises it); needs the strainer (asset file ``feeds`` = [pump], or the only
  filter on the pump's line);
- ``suction_head_bar``: the liquid head at the suction, from SuctionPressure + the suction
  losses (held constant over the prediction);
- ``ambient_c``: the ambient temperature implied by the motor winding temperature;
- ``bearing_wear``: wear severity 0..1 implied by the vibration level.
Actions: ``replace_filter`` (clean strainer), ``replace_bearing``, ``clear_fault`` (both).
"""

from __future__ import annotations

import numpy as np

from agent.errors import ToolError
from agent.twin.physics.common import ATMOSPHERE_BAR, BAR_PER_METRE
from agent.twin.physics.filter import FilterParams, filter_dp_bar
from agent.twin.physics.motor import BearingState, bearing_step, motor_current, winding_step
from agent.twin.physics.pump import PumpParams, PumpState, operating_point, pump_hydraulics_step
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
    "FlowRate",
    "DischargePressure",
    "SuctionPressure",
    "MotorCurrent",
    "Power",
    "MotorWindingTemperature",
    "BearingTemperature",
    "Vibration",
)
FILTER_DP = "filter:DifferentialPressure"
#: Tank level assumed for the vortexing check (the head itself is fitted).
_LEVEL_PCT = 50.0


class PumpWhatIf:
    """Pump + motor + bearing + suction strainer, coupled as in the demo line."""

    eq_class: str = "pump"
    required: tuple[str, ...] = (
        "FlowRate",
        "DischargePressure",
        "SuctionPressure",
        "MotorCurrent",
        "MotorWindingTemperature",
        "Vibration",
    )
    roles: dict[str, VarRole] = {
        "FlowRate": role("flow"),
        "DischargePressure": role("discharge pressure"),
        "SuctionPressure": role("suction pressure"),
        "MotorCurrent": role("current"),
        "Power": role("power"),
        "Speed": role("speed"),
        "MotorWindingTemperature": role("winding temperature"),
        "BearingTemperature": role("bearing temperature"),
        "Vibration": role("vibration"),
    }
    #: The strainer on the suction (related "filter").
    filter_roles: dict[str, VarRole] = {"DifferentialPressure": role("differential_pressure")}
    settables: dict[str, tuple[str, str]] = {}
    actions: dict[str, str] = {
        "replace_filter": "replace the suction strainer element (clean resistance)",
        "replace_bearing": "replace the pump bearing (no wear)",
        "clear_fault": "both",
    }
    pump_parameters: frozenset[str] = overridable(PumpParams, "motor", "bearing")
    filter_parameters: frozenset[str] = frozenset({"clean_resistance", "clogged_factor"})
    parameter_names: frozenset[str] = pump_parameters | filter_parameters

    def _params(self, sit: Situation) -> tuple[PumpParams, FilterParams]:
        pump = site_params(PumpParams(), self.pump_parameters, sit)
        filt = site_params(FilterParams(), self.filter_parameters, sit)
        return pump, filt

    def fit(self, sit: Situation) -> list[Fitted]:
        """Least-squares fits of strainer resistance, suction head, ambient, bearing wear."""
        n = require_samples(sit)
        p, _ = self._params(sit)
        flow = sit.series("FlowRate")
        fits: list[Fitted] = []
        r_filter = 0.0
        if "filter" in sit.related:
            dp_bar = sit.series("DifferentialPressure", "filter") / 100.0
            r_filter, rms = least_squares_scale(dp_bar, flow**2)
            fits.append(
                Fitted(
                    "filter_resistance",
                    r_filter,
                    "bar/(m³/h)²",
                    n,
                    rms * 100.0,
                    "least squares of DifferentialPressure = R x FlowRate²",
                )
            )
        head = (
            sit.series("SuctionPressure")
            - ATMOSPHERE_BAR
            + (p.suction_resistance + r_filter) * flow**2
        )
        fits.append(
            Fitted(
                "suction_head_bar",
                float(np.mean(head)),
                "bar",
                n,
                float(np.std(head)),
                "mean of suction pressure + losses",
            )
        )
        m = p.motor
        rise = m.winding_rise_k * (sit.series("MotorCurrent") / m.rated_current_a) ** 2
        ambient = sit.series("MotorWindingTemperature") - rise
        fits.append(
            Fitted(
                "ambient_c",
                float(np.mean(ambient)),
                "°C",
                n,
                float(np.std(ambient)),
                "mean of winding temperature - rise",
            )
        )
        b = p.bearing
        power = sit.series("Power") if sit.tag("Power") in sit.window else None
        load = (power * 0.9 / m.rated_power_kw) if power is not None else np.full(n, 0.5)
        excess = sit.series("Vibration") - b.vibration_base_mm_s - b.vibration_load_mm_s * load
        wear = float(np.clip(np.mean(excess) / b.vibration_wear_mm_s, 0.0, 1.0)) ** (1 / 1.3)
        fits.append(
            Fitted(
                "bearing_wear",
                wear,
                "0..1",
                n,
                float(np.std(excess)),
                "mean vibration above the healthy level",
            )
        )
        return fits

    def valid_range(self, variable: str, sit: Situation) -> tuple[float, float]:
        """No settable variables: the demo pump runs at fixed speed."""
        raise ToolError(
            f"the pump model has no settable {variable!r}",
            fix=f"use an action: {', '.join(self.actions)}",
        )

    def run(
        self, sit: Situation, fits: list[Fitted], change: Change | None, hours: float
    ) -> Trajectory:
        """Step the pump's operating point, motor and bearing from the latest state."""
        p, fp = self._params(sit)
        names = {f.name for f in fits}
        r_filter = fitted_value(fits, "filter_resistance") if "filter_resistance" in names else 0.0
        wear = fitted_value(fits, "bearing_wear")
        action = change.action if change else None
        if action in ("replace_filter", "clear_fault"):
            if "filter" not in sit.related:
                raise ToolError(
                    f"{sit.equipment.name} has no known suction strainer",
                    fix='name it in assets.toml: feeds = ["<pump>"]',
                )
            r_filter = fp.clean_resistance
        if action in ("replace_bearing", "clear_fault"):
            wear = 0.0
        head_m = fitted_value(fits, "suction_head_bar") / BAR_PER_METRE
        ambient = fitted_value(fits, "ambient_c")
        s = PumpState(
            flow_m3h=sit.now("FlowRate"),
            suction_bar_abs=sit.now("SuctionPressure"),
            discharge_bar_g=sit.now("DischargePressure"),
            speed_rpm=sit.latest.get(sit.tag("Speed"), p.motor.rated_speed_rpm - 10.0),
            current_a=sit.now("MotorCurrent"),
            shaft_kw=sit.latest.get(sit.tag("Power"), 5.5) * 0.9,
            winding_c=sit.now("MotorWindingTemperature"),
            bearing=BearingState(
                sit.latest.get(sit.tag("BearingTemperature"), 50.0), sit.now("Vibration")
            ),
        )
        out: Trajectory = {v: [] for v in (*_OUT, FILTER_DP)}
        steps, every = int(hours * 3600.0 / STEP_S), int(OUTPUT_EVERY_S / STEP_S)
        rated_kw = p.motor.rated_power_kw
        for i in range(steps + 1):
            if i % every == 0:
                for v, x in zip(
                    _OUT,
                    (
                        s.flow_m3h,
                        s.discharge_bar_g,
                        s.suction_bar_abs,
                        s.current_a,
                        s.shaft_kw / 0.9,
                        s.winding_c,
                        s.bearing.temperature_c,
                        s.bearing.vibration_mm_s,
                    ),
                    strict=True,
                ):
                    out[v].append(x)
                out[FILTER_DP].append(filter_dp_bar(r_filter, s.flow_m3h) * 100.0)
            # The same order of updates as plant.line.line_step.
            op = operating_point(
                p,
                speed_frac=s.speed_rpm / p.motor.rated_speed_rpm,
                tank_head_m=head_m,
                tank_level_pct=_LEVEL_PCT,
                filter_resistance=r_filter,
            )
            pump_hydraulics_step(p, s, op, STEP_S)
            s.speed_rpm = p.motor.rated_speed_rpm - 25.0 * s.shaft_kw / rated_kw
            s.current_a = motor_current(p.motor, s.shaft_kw / 0.9)
            s.winding_c = winding_step(p.motor, s.winding_c, s.current_a, ambient, STEP_S)
            bearing_step(
                p.bearing,
                s.bearing,
                speed_frac=1.0,
                load_frac=s.shaft_kw / rated_kw,
                wear=wear,
                ambient_c=ambient,
                dt=STEP_S,
                extra_vibration_mm_s=3.5 * s.cavitation,
            )
        if "filter" not in sit.related:
            del out[FILTER_DP]
        return out
