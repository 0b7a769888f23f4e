"""Fault modes of the demo plant: what they are, where they apply, how they develop.

A fault is injected on a target (an equipment name, or for sensor faults a tag name) at a
simulated time; its severity then grows from 0 to 1 following its profile with the onset
time constant ``onset_s``. Profiles are shaped like real failures: bearing wear and
clogging creep then accelerate, a loss of cooling settles like a first-order lag, a drift
ramps, a stuck sensor freezes at once. Every profile is fully developed after about three
time constants.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Literal

from agent.errors import InvalidArgumentError, UnknownNameError
from plant.tags import EQUIPMENT_CLASSES, EquipmentClass, equipment_by_name, tags_by_name

Profile = Literal["accelerating", "first_order", "ramp", "step"]
_E3 = math.exp(3.0) - 1.0


@dataclass(frozen=True)
class FaultSpec:
    """One fault mode."""

    name: str
    equipment_classes: tuple[EquipmentClass, ...]
    description: str
    onset_s: float
    profile: Profile
    #: What an operator would see, as "<variable> up/down/frozen"; a signature for diagnosis.
    symptoms: tuple[str, ...]
    #: Sensor faults act on one tag's reading, not on the process.
    sensor: bool = False

    def severity(self, elapsed_s: float) -> float:
        """Severity in [0, 1] after ``elapsed_s`` simulated seconds."""
        if elapsed_s <= 0.0:
            return 0.0 if self.profile != "step" else 1.0
        if self.profile == "step" or self.onset_s <= 0.0:
            return 1.0
        x = elapsed_s / self.onset_s
        if self.profile == "accelerating":
            return min(1.0, math.expm1(min(x, 3.0)) / _E3)
        if self.profile == "first_order":
            return -math.expm1(-x)
        return min(1.0, x / 3.0)


FAULTS: tuple[FaultSpec, ...] = (
    FaultSpec(
        "bearing_wear",
        ("pump", "motor", "compressor"),
        "Rolling bearing damage: vibration and bearing temperature creep up, then accelerate "
        "as spalling spreads.",
        3600.0,
        "accelerating",
        ("Vibration up", "BearingTemperature up"),
    ),
    FaultSpec(
        "filter_clogging",
        ("filter",),
        "Strainer element loading with debris: differential pressure rises, pump flow and "
        "suction pressure fall.",
        2400.0,
        "accelerating",
        ("DifferentialPressure up", "FlowRate down", "SuctionPressure down"),
    ),
    FaultSpec(
        "cooling_loss",
        ("heat_exchanger",),
        "Cooling water supply failing (pump trip, closed isolation valve): coolant flow drops, "
        "the control valve opens fully, product outlet temperature climbs.",
        240.0,
        "first_order",
        ("CoolantFlow down", "CoolantValvePosition up", "HotOutletTemperature up"),
    ),
    FaultSpec(
        "hx_fouling",
        ("heat_exchanger",),
        "Scale building up on the tubes: heat transfer falls, the coolant valve opens further "
        "until it saturates, then the outlet temperature rises.",
        3600.0,
        "ramp",
        ("CoolantValvePosition up", "CoolantFlow up", "HotOutletTemperature up"),
    ),
    FaultSpec(
        "conveyor_jam",
        ("conveyor", "motor"),
        "Product jammed on the belt: drive torque and current spike, the VFD current limit "
        "slows the belt, containers pile up.",
        8.0,
        "first_order",
        ("M-101.Current up", "M-101.Torque up", "CV-101.BeltSpeed down", "CV-101.Load up"),
    ),
    FaultSpec(
        "compressor_valve_leak",
        ("compressor",),
        "Leaking discharge/check valve recirculates hot air: load and current rise, discharge "
        "and oil temperatures climb, then the receiver pressure sags.",
        900.0,
        "ramp",
        ("DutyCycle up", "DischargeTemperature up", "OilTemperature up", "DischargePressure down"),
    ),
    FaultSpec(
        "feed_valve_stuck",
        ("tank",),
        "Tank inlet valve stuck almost closed: inflow drops, the level falls and the pump "
        "loses suction head, then cavitates.",
        5.0,
        "first_order",
        ("InletFlow down", "Level down", "P-101.SuctionPressure down", "P-101.FlowRate down"),
    ),
    FaultSpec(
        "sensor_drift",
        EQUIPMENT_CLASSES,
        "A transmitter drifting: its reading gains a slowly growing offset (a quarter of the "
        "normal range after three time constants) while the process is unchanged.",
        1800.0,
        "ramp",
        ("<tag> drifting up",),
        sensor=True,
    ),
    FaultSpec(
        "stuck_sensor",
        EQUIPMENT_CLASSES,
        "A transmitter frozen: the reading stays at its last value, without noise, while the "
        "process keeps moving.",
        0.0,
        "step",
        ("<tag> frozen, no noise",),
        sensor=True,
    ),
)


def fault_registry() -> dict[str, FaultSpec]:
    """Fault modes keyed by name."""
    return {f.name: f for f in FAULTS}


def close_matches(name: str, candidates: list[str]) -> list[str]:
    """Up to three candidates that look like ``name`` (case-insensitive)."""
    lowered = {c.lower(): c for c in candidates}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.5)
    return [lowered[h] for h in hits]


@dataclass
class ActiveFault:
    """A fault injected on a target at simulated time ``started_s``."""

    spec: FaultSpec
    equipment: str
    tag: str | None
    started_s: float

    @property
    def target(self) -> str:
        """The tag for sensor faults, the equipment otherwise."""
        return self.tag or self.equipment

    def severity(self, now_s: float) -> float:
        """Current severity."""
        return self.spec.severity(now_s - self.started_s)


def resolve_target(spec: FaultSpec, target: str) -> tuple[str, str | None]:
    """(equipment, tag) a fault named ``spec`` would act on for ``target``.

    Raises UnknownNameError with close matches for a name that does not exist and
    InvalidArgumentError when the fault does not apply to that equipment class.
    """
    equipment = equipment_by_name()
    tags = tags_by_name()
    if target in tags and spec.sensor:
        return tags[target].equipment, target
    if target not in equipment:
        names = list(equipment) + (list(tags) if spec.sensor else [])
        raise UnknownNameError(
            f"no equipment {target!r} in the demo plant",
            fix=f"use one of: {', '.join(equipment)}"
            + (" (or a tag name such as P-101.FlowRate)" if spec.sensor else ""),
            suggestions=close_matches(target, names),
        )
    eq = equipment[target]
    if eq.eq_class not in spec.equipment_classes:
        fitting = [e.name for e in equipment.values() if e.eq_class in spec.equipment_classes]
        raise InvalidArgumentError(
            f"fault {spec.name!r} does not apply to {target} ({eq.eq_class})",
            fix=f"inject it on one of: {', '.join(fitting)}",
            suggestions=fitting,
        )
    if spec.sensor:
        return target, f"{target}.{eq.primary}"
    return target, None


def lookup_fault(name: str) -> FaultSpec:
    """The fault mode called ``name``; UnknownNameError with close matches otherwise."""
    registry = fault_registry()
    try:
        return registry[name]
    except KeyError:
        raise UnknownNameError(
            f"no fault mode {name!r}",
            fix=f"use one of: {', '.join(registry)} (`plantagent sim faults` lists them)",
            suggestions=close_matches(name, list(registry)),
        ) from None
