"""What-if of a chemical dosing skid (agent.twin.physics.dosing): the residual it leaves
from the solution flow it delivers.

The residual leaving the contact tank is the applied dose minus the water's demand,
reached through a first-order lag of the contact time: residual -> gain x flow - demand.
Fitted from the historian (least squares over the fit window, on the dosing flow passed
through the contact lag): ``dose_gain`` (residual per unit of dosing flow: the solution's
strength over the water flow, which is held) and ``demand``. When the dosing flow did not
change in the window the two cannot be told apart: the residual is then taken
proportional to the flow (no demand) and the fit says so. A fit that needs a demand
well below zero (the residual moved for another reason, as with flow-paced dosing whose
solution flow only follows the water flow) is refused. ``contact_tau_s`` (default
900 s) may be given in the asset file.

Changes: ``dosing_flow`` (the solution flow, in its tag's unit); action
``restore_prime`` (the pump delivers its flow setpoint again; needs a flow setpoint tag).
"""

from __future__ import annotations

import math

import numpy as np

from agent.errors import ToolError
from agent.twin.whatif.base import (
    OUTPUT_EVERY_S,
    STEP_S,
    Change,
    Fitted,
    Situation,
    Trajectory,
    fitted_value,
    require_samples,
)
from agent.twin.whatif.roles import VarRole, role

_OUT = ("Residual", "DosingFlow")
#: The contact tank's time constant when the site gives none (s).
CONTACT_TAU_S = 900.0
#: How far below zero a fitted demand may come (as a share of the mean residual) before
#: the fit is refused: a little is noise, more is a residual the flow does not explain.
DEMAND_SLACK = 0.1


def _integral(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The running integral of ``x`` over ``t`` (trapezoids), 0 at the start."""
    return np.concatenate([[0.0], np.cumsum((x[1:] + x[:-1]) / 2.0 * np.diff(t))])


class DosingSkidWhatIf:
    """The residual from the delivered solution flow, through the contact lag."""

    eq_class: str = "dosing_skid"
    required: tuple[str, ...] = ("DosingFlow", "Residual")
    roles: dict[str, VarRole] = {
        "DosingFlow": role("flow"),
        "Residual": role("concentration"),
        "FlowSetpoint": role("flow", "setpoint"),
    }
    settables: dict[str, tuple[str, str]] = {
        "dosing_flow": ("(its tag's unit)", "the solution flow the pump delivers"),
    }
    actions: dict[str, str] = {
        "restore_prime": "the pump delivers its flow setpoint again (re-primed)",
        "clear_fault": "same as restore_prime",
    }
    parameter_names: frozenset[str] = frozenset({"contact_tau_s"})

    def _tau(self, sit: Situation) -> float:
        tau = float(sit.params.get("contact_tau_s", CONTACT_TAU_S))
        if tau <= 0.0:
            raise ToolError(f"{sit.equipment.name}: contact_tau_s must be positive",
                            fix="give the contact tank's time constant in seconds")
        return tau

    def fit(self, sit: Situation) -> list[Fitted]:
        """Gain and demand by least squares of the residual on the lagged flow."""
        n = require_samples(sit)
        flow, residual = sit.series("DosingFlow"), sit.series("Residual")
        t = sit.times if len(sit.times) == len(flow) else np.arange(len(flow)) * STEP_S
        tau = self._tau(sit)
        mean_flow = float(np.mean(flow))
        if mean_flow <= 0.0:
            raise ToolError(f"{sit.equipment.name} delivered no solution in the recorded data",
                            fix="record the skid while it doses (`plantagent twin record`)")
        # The contact lag tau dR/dt = gain x flow - demand - R, integrated over the window
        # (no derivative of a noisy analyser, no guess of where the lag started):
        # R - R0 + ∫R/tau = gain ∫flow/tau - demand t/tau.
        y = residual - residual[0] + _integral(residual, t) / tau
        x_flow, x_time = _integral(flow, t) / tau, -t / tau
        steady = float(np.ptp(flow)) < 0.02 * mean_flow
        if steady:
            gain, demand = float(np.dot(x_flow, y) / max(float(np.dot(x_flow, x_flow)), 1e-12)), 0.0
            how = ("the dosing flow did not change in the fit window: the residual is taken "
                   "proportional to it (no demand fitted)")
        else:
            (gain, demand), *_ = np.linalg.lstsq(np.column_stack([x_flow, x_time]), y,
                                                 rcond=None)
            gain, demand = float(gain), float(demand)
            how = "least squares of the contact lag's balance, integrated over the window"
        # A demand well below zero (the water adding chlorine) means the residual moved
        # for another reason than the dosing flow (flow-paced dosing on a steady dose:
        # the solution flow follows the water flow while the residual holds); the gain
        # is then meaningless and any prediction would be near nothing.
        implausible = demand < -DEMAND_SLACK * max(abs(float(np.mean(residual))), 1e-9)
        if gain <= 0.0 or not math.isfinite(gain) or implausible:
            raise ToolError(
                f"the recorded residual of {sit.equipment.name} does not follow its dosing "
                "flow", fix="record a change of the dosing flow while the water flow holds (a "
                "setpoint step, or a stop), or check the analyser")
        rms = float(np.sqrt(np.mean((y - gain * x_flow - demand * x_time) ** 2)))
        return [
            Fitted("dose_gain", gain, "residual per unit of dosing flow", n, rms, how),
            Fitted("demand", demand, "residual units", n, None, how),
            Fitted("contact_tau_s", tau, "s", n, None,
                   "asset file" if "contact_tau_s" in sit.params else "default"),
        ]

    def valid_range(self, variable: str, sit: Situation) -> tuple[float, float]:
        """A dosing flow from zero to the top of its meter's range (or twice the most
        recorded)."""
        name = sit.tag("DosingFlow")
        tag = next((t for t in sit.equipment.tags if t.name == name), None)
        if tag is not None and tag.high is not None and tag.high > 0.0:
            return 0.0, float(tag.high)
        recorded = sit.window.get(name)
        most = float(np.max(recorded)) if recorded is not None and len(recorded) else 0.0
        return 0.0, max(2.0 * most, 1e-3)

    def run(
        self, sit: Situation, fits: list[Fitted], change: Change | None, hours: float
    ) -> Trajectory:
        """Step the contact lag from the latest residual with the flow held."""
        gain, demand = fitted_value(fits, "dose_gain"), fitted_value(fits, "demand")
        tau = fitted_value(fits, "contact_tau_s")
        flow = start = sit.now("DosingFlow")
        if change is not None:
            if change.variable == "dosing_flow" and change.value is not None:
                flow = change.value
            elif change.action in ("restore_prime", "clear_fault"):
                if sit.tag("FlowSetpoint") not in sit.latest:
                    raise ToolError(
                        f"{sit.equipment.name} has no flow setpoint tag to restore to",
                        fix="propose dosing_flow=VALUE instead, or name its setpoint in "
                        "assets.toml: [tag.\"TAG\"] quantity = \"flow\", function = "
                        "\"setpoint\"")
                flow = sit.now("FlowSetpoint")
        residual = sit.now("Residual")
        a = math.exp(-STEP_S / tau)
        out: Trajectory = {v: [] for v in _OUT}
        steps, every = int(hours * 3600.0 / STEP_S), int(OUTPUT_EVERY_S / STEP_S)
        for i in range(steps + 1):
            if i % every == 0:
                out["Residual"].append(residual)
                out["DosingFlow"].append(flow if i else start)
            residual = a * residual + (1.0 - a) * max(0.0, gain * flow - demand)
        return out
