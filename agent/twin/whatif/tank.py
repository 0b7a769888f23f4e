"""What-if of a tank (buffer, basin, vessel): its level from what flows in minus what
flows out, the mass balance dL/dt = (Qin - Qout) / V, where V is the volume per unit of
level (m³ per % of level, or the tank's area in m² for a level in metres).

Fitted from the historian (least squares over the fit window): ``volume_per_level`` from
the level's change against the volume the recorded flows added, together with
``flow_offset`` (m³/h), the steady difference between the two flow meters (an inflow
meter reading 1 % high would otherwise fill the tank forever). The site may give
``volume_per_level`` in its asset file instead (``[equipment.X] parameters``); a fit
needs the level to move while the flows differ.

The flows are the tank's own inlet and outlet flow tags, else the flow of the equipment
that feeds it and of the equipment it feeds (agent.twin.whatif.engine finds them by the
couplings). Changes: ``inflow`` and ``outflow`` (m³/h); the other flow is held at its
latest value. The level stops at the ends of its range (an overflow or an empty tank).
"""

from __future__ import annotations

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

_OUT = ("Level", "Inflow", "Outflow")


class TankWhatIf:
    """Level from the mass balance of the flows in and out."""

    eq_class: str = "tank"
    required: tuple[str, ...] = ("Level", "Inflow", "Outflow")
    roles: dict[str, VarRole] = {
        "Level": role("level"),
        "Inflow": role("inlet flow"),
        "Outflow": role("outlet flow"),
    }
    settables: dict[str, tuple[str, str]] = {
        "inflow": ("m³/h", "the flow into the tank"),
        "outflow": ("m³/h", "the flow drawn from the tank"),
    }
    actions: dict[str, str] = {}
    parameter_names: frozenset[str] = frozenset({"volume_per_level"})

    def fit(self, sit: Situation) -> list[Fitted]:
        """Volume per unit of level and the flow meters' offset, by least squares of the
        level's change on the volume the flows added and on time."""
        n = require_samples(sit)
        level = sit.series("Level")
        net = (sit.series("Inflow") - sit.series("Outflow")) / 3600.0  # m³/s
        t = sit.times if len(sit.times) == len(level) else np.arange(len(level)) * STEP_S
        # Volume added since the window's start (trapezoids), against the level's change.
        added = np.concatenate([[0.0], np.cumsum((net[1:] + net[:-1]) / 2.0 * np.diff(t))])
        rise = level - level[0]
        site = sit.params.get("volume_per_level")
        if site is not None:
            if site <= 0.0:
                raise ToolError(f"{sit.equipment.name}: volume_per_level must be positive",
                                fix="give the tank's volume per unit of level in assets.toml")
            per = float(site)
            # What the level gained beyond the flows' volume, as a steady flow (m³/s).
            gap = rise * per - added
            offset = float(np.dot(gap, t) / max(float(np.dot(t, t)), 1.0)) * 3600.0
            return [Fitted("volume_per_level", per, "m³ per level unit", n, None, "site file"),
                    Fitted("flow_offset", offset, "m³/h", n, None,
                           "mean gap between the level's change and the flows")]
        design = np.column_stack([added, t])
        # A steady net flow adds volume in step with time: then the size and a meter
        # offset cannot be told apart, and the meters are taken as agreeing.
        steady = float(np.ptp(added)) <= 0.0 or abs(float(np.corrcoef(added, t)[0, 1])) > 0.99
        if steady:
            design = design[:, :1]
        coef, *_ = np.linalg.lstsq(design, rise, rcond=None)
        c, d = float(coef[0]), 0.0 if steady else float(coef[1])
        if c <= 0.0 or not np.isfinite(c) or float(np.ptp(added)) <= 0.0:
            raise ToolError(
                f"the recorded level and flows of {sit.equipment.name} do not show its size "
                "(the level must move while the flows in and out differ)",
                fix=f"record a fill or a draw-down, or give its size in assets.toml: "
                f"[equipment.{sit.equipment.name}] parameters = {{ volume_per_level = ... }} "
                "(m³ per unit of its level)",
            )
        rms = float(np.sqrt(np.mean((rise - c * added - d * t) ** 2)))
        return [
            Fitted("volume_per_level", 1.0 / c, "m³ per level unit", n, rms,
                   "least squares of the level's change on the volume the flows added"),
            Fitted("flow_offset", d / c * 3600.0, "m³/h", n, None,
                   "taken as 0: the net flow did not change in the fit window" if steady
                   else "the same fit: the steady gap between inflow and outflow meters"),
        ]

    def valid_range(self, variable: str, sit: Situation) -> tuple[float, float]:
        """A flow from zero to the top of its meter's range (or twice the most recorded)."""
        name = sit.tag("Inflow" if variable == "inflow" else "Outflow")
        tag = next((t for e in (sit.equipment, *sit.related.values()) for t in e.tags
                    if t.name == name), None)
        if tag is not None and tag.high is not None and tag.high > 0.0:
            return 0.0, float(tag.high)
        recorded = sit.window.get(name)
        most = float(np.max(recorded)) if recorded is not None and len(recorded) else 0.0
        return 0.0, max(2.0 * most, 1.0)

    def _level_range(self, sit: Situation) -> tuple[float, float]:
        tag = next((t for t in sit.equipment.tags if t.name == sit.tag("Level")), None)
        if tag is not None and tag.low is not None and tag.high is not None:
            return float(tag.low), float(tag.high)
        return 0.0, 100.0

    def run(
        self, sit: Situation, fits: list[Fitted], change: Change | None, hours: float
    ) -> Trajectory:
        """Integrate the balance from the latest level with the flows held."""
        per = fitted_value(fits, "volume_per_level")
        offset = fitted_value(fits, "flow_offset")
        qin, qout = sit.now("Inflow"), sit.now("Outflow")
        start_in, start_out = qin, qout
        if change is not None and change.value is not None:
            if change.variable == "inflow":
                qin = change.value
            elif change.variable == "outflow":
                qout = change.value
        low, high = self._level_range(sit)
        level = sit.now("Level")
        out: Trajectory = {v: [] for v in _OUT}
        steps, every = int(hours * 3600.0 / STEP_S), int(OUTPUT_EVERY_S / STEP_S)
        for i in range(steps + 1):
            if i % every == 0:
                out["Level"].append(level)
                out["Inflow"].append(qin if i else start_in)
                out["Outflow"].append(qout if i else start_out)
            level += (qin - qout + offset) / 3600.0 * STEP_S / per
            level = min(max(level, low), high)
        return out
