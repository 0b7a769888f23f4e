"""PlantModel: the demo line as one object you can step, read, and break on purpose.

Usable without any server (the digital twin's what-if reuses it): deterministic for a
given seed and sequence of calls, stepping in simulated seconds.

    model = PlantModel(seed=7)
    model.inject("bearing_wear", "P-101")
    model.advance(3 * 3600)
    model.values()["P-101.Vibration"]
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass

from agent.errors import InvalidArgumentError, UnknownNameError
from plant.faults import ActiveFault, FaultSpec, close_matches, lookup_fault, resolve_target
from plant.line import (
    SETPOINT_FIELDS,
    LineParams,
    LineState,
    Severities,
    initial_state,
    line_step,
)
from plant.line import setpoints as line_setpoints
from plant.line import true_values as line_true_values
from plant.sensors import SensorLayer
from plant.tags import EQUIPMENT, TAGS, equipment_by_name, tags_by_name


@dataclass(frozen=True)
class FaultStatus:
    """An active fault as reported to people and over OPC UA."""

    fault: str
    equipment: str
    tag: str | None
    started_s: float
    severity: float


class PlantModel:
    """The simulated line: physics, faults and sensors."""

    def __init__(
        self,
        params: LineParams | None = None,
        *,
        seed: int = 7,
        warmup_s: float = 3600.0,
        max_dt: float = 5.0,
    ) -> None:
        self.params = params or LineParams()
        self.seed = seed
        self.max_dt = max_dt
        self._rng = random.Random(seed)
        self.state: LineState = initial_state(self.params)
        self._sensors = SensorLayer(seed)
        self._faults: list[ActiveFault] = []
        self.time_s = 0.0
        # Let controllers and temperatures settle so the first reading is a normal one.
        self.advance(warmup_s, dt=min(max_dt, 5.0))
        self.time_s = 0.0

    def clone(self) -> PlantModel:
        """An independent copy (state, faults, random streams): a what-if branch point."""
        return copy.deepcopy(self)

    # -- stepping ------------------------------------------------------------------------

    def step(self, dt: float) -> None:
        """Advance by one step of ``dt`` simulated seconds."""
        if dt <= 0.0:
            raise InvalidArgumentError(f"step of {dt} s", fix="step by a positive time")
        line_step(self.params, self.state, self._severities(), self._rng, dt)
        self.time_s += dt

    def advance(self, seconds: float, dt: float | None = None) -> None:
        """Advance by ``seconds`` in steps of at most ``dt`` (default ``max_dt``)."""
        step = dt or self.max_dt
        remaining = seconds
        while remaining > 1e-9:
            this = min(step, remaining)
            self.step(this)
            remaining -= this

    def _severities(self) -> Severities:
        out: Severities = {}
        for f in self._faults:
            if not f.spec.sensor:
                key = (f.spec.name, f.equipment)
                out[key] = max(out.get(key, 0.0), f.severity(self.time_s))
        return out

    # -- reading -------------------------------------------------------------------------

    def true_values(self) -> dict[str, float]:
        """Noise-free process values, keyed by tag name (what no sensor shows)."""
        return line_true_values(self.params, self.state)

    def values(self) -> dict[str, float]:
        """One reading of every tag: noise and sensor faults applied."""
        return self._sensors.read(self.true_values(), self._faults, self.time_s)

    @staticmethod
    def tag_names() -> list[str]:
        """All tag names, in address-space order."""
        return [t.name for t in TAGS]

    @staticmethod
    def equipment_names() -> list[str]:
        """All equipment browse names."""
        return [e.name for e in EQUIPMENT]

    # -- setpoints ------------------------------------------------------------------------

    def setpoints(self) -> dict[str, float]:
        """The controller setpoints in force, keyed by setpoint tag name."""
        return line_setpoints(self.params, self.state)

    def set_setpoint(self, tag: str, value: float) -> None:
        """Change a controller setpoint (what an OPC UA write of the tag does)."""
        field_name = SETPOINT_FIELDS.get(tag)
        if field_name is None:
            raise UnknownNameError(
                f"{tag!r} is not a setpoint of the demo plant",
                fix=f"use one of: {', '.join(SETPOINT_FIELDS)}",
            )
        spec = tags_by_name()[tag]
        if not spec.low <= value <= spec.high:
            raise InvalidArgumentError(
                f"{tag} = {value:g} is outside its range {spec.low:g}..{spec.high:g}",
                fix="choose a value inside the range",
            )
        setattr(self.state, field_name, float(value))

    # -- faults --------------------------------------------------------------------------

    def inject(self, fault: str, target: str) -> FaultStatus:
        """Start fault ``fault`` on ``target`` (equipment, or a tag for sensor faults).

        Injecting a fault that is already active on the same target keeps the original
        one (it does not restart its development).
        """
        spec: FaultSpec = lookup_fault(fault)
        equipment, tag = resolve_target(spec, target)
        for f in self._faults:
            if f.spec.name == spec.name and f.equipment == equipment and f.tag == tag:
                return self._status(f)
        active = ActiveFault(spec, equipment, tag, self.time_s)
        if spec.name == "stuck_sensor" and tag is not None:
            # Frozen at the last reading the transmitter gave.
            last = self._sensors.last.get(tag)
            self._sensors.freeze(tag, last if last is not None else self.true_values()[tag])
        self._faults.append(active)
        return self._status(active)

    def clear(self, target: str = "*") -> list[FaultStatus]:
        """Clear the faults on ``target`` (equipment or tag; "" or "*" = all); return them."""
        if target in ("", "*"):
            gone = list(self._faults)
        else:
            if target not in equipment_by_name() and target not in tags_by_name():
                names = self.equipment_names()
                raise UnknownNameError(
                    f"no equipment {target!r} in the demo plant",
                    fix=f"use one of: {', '.join(names)}, or * for all",
                    suggestions=close_matches(target, names + self.tag_names()),
                )
            gone = [f for f in self._faults if target in (f.equipment, f.tag)]
        for f in gone:
            self._faults.remove(f)
            if f.tag is not None and f.spec.name == "stuck_sensor":
                self._sensors.unfreeze(f.tag)
        return [self._status(f) for f in gone]

    def active_faults(self) -> list[FaultStatus]:
        """The faults in effect now, with their current severity."""
        return [self._status(f) for f in self._faults]

    def _status(self, f: ActiveFault) -> FaultStatus:
        return FaultStatus(
            f.spec.name, f.equipment, f.tag, f.started_s, round(f.severity(self.time_s), 4)
        )
