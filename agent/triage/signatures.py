"""Known fault signatures: the demo plant's fault modes and generic equipment rules.

A signature lists symptoms as (variable, direction, weight). ``scope`` "self" means a tag
of the candidate equipment; "coupled" means a tag of equipment coupled to it (the
filter's clogging shows on the pump after it). The variable names are the standard
browse names of the demo plant; any server using the same names gets the same rules.
Instrument faults (stuck, drifting transmitters) are generic rules in ``sensor_rules``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Scope = Literal["self", "coupled"]


@dataclass(frozen=True)
class Symptom:
    """A variable expected to move one way."""

    variable: str
    direction: Literal["up", "down", "flat"]
    weight: float = 1.0
    scope: Scope = "self"
    required: bool = False


@dataclass(frozen=True)
class Signature:
    """One fault mode and what it looks like."""

    cause: str
    title: str
    symptoms: tuple[Symptom, ...]
    #: Symptoms that, when present, speak against this cause.
    against: tuple[Symptom, ...] = ()
    checks: tuple[str, ...] = field(default_factory=tuple)
    action: str = ""
    risk: Literal["low", "medium", "high"] = "medium"


def _s(var: str, d: Literal["up", "down", "flat"], w: float = 1.0, scope: Scope = "self",
       required: bool = False) -> Symptom:
    return Symptom(var, d, w, scope, required)


SIGNATURES: tuple[Signature, ...] = (
    Signature(
        "bearing_wear", "bearing wear",
        (_s("Vibration", "up", 2.0, required=True), _s("BearingTemperature", "up", 1.5)),
        # Bearing wear raises vibration at normal load; a load change explains it otherwise.
        (_s("MotorCurrent", "up"), _s("FlowRate", "down"), _s("DischargeTemperature", "up")),
        ("vibration spectrum at bearing defect frequencies", "lubrication and grease state"),
        "plan a bearing inspection and replacement; check lubrication", "medium",
    ),
    Signature(
        "filter_clogging", "filter/strainer clogging",
        (_s("DifferentialPressure", "up", 2.0, required=True),
         _s("OutletPressure", "down"), _s("FlowRate", "down", 1.0, "coupled"),
         _s("SuctionPressure", "down", 1.0, "coupled")),
        (),
        ("differential pressure gauge locally", "when the element was last cleaned"),
        "switch to the standby strainer or clean the element", "low",
    ),
    Signature(
        "cooling_loss", "loss of cooling water",
        (_s("CoolantFlow", "down", 2.0, required=True), _s("CoolantValvePosition", "up"),
         _s("HotOutletTemperature", "up"), _s("HeatDuty", "down")),
        # Less product flow lowers the duty and the coolant demand: not a cooling loss.
        (_s("CoolantFlow", "up"), _s("FlowRate", "down", 1.0, "coupled")),
        ("cooling water pump and isolation valves", "cooling water supply pressure"),
        "restore cooling water supply (pump, isolation valve); reduce product flow", "high",
    ),
    Signature(
        "hx_fouling", "heat exchanger fouling",
        (_s("CoolantFlow", "up", 1.5, required=True), _s("CoolantValvePosition", "up"),
         _s("HotOutletTemperature", "up"), _s("ColdOutletTemperature", "down"),
         _s("HeatDuty", "down")),
        (_s("CoolantFlow", "down"),),
        ("approach temperature trend over weeks", "last cleaning date"),
        "schedule cleaning of the exchanger tubes", "medium",
    ),
    Signature(
        "conveyor_jam", "conveyor jam",
        (_s("BeltSpeed", "down", 2.0, required=True), _s("Load", "up"),
         _s("Throughput", "down"), _s("Current", "up", 1.0, "coupled"),
         _s("Torque", "up", 1.0, "coupled")),
        (),
        ("belt and transfer points for jammed product",),
        "stop the conveyor, lock out, clear the jam", "medium",
    ),
    Signature(
        "compressor_valve_leak", "compressor discharge/check valve leak",
        (_s("DischargeTemperature", "up", 2.0, required=True), _s("DutyCycle", "up"),
         _s("OilTemperature", "up"), _s("DischargePressure", "down"), _s("AirFlow", "down")),
        (_s("Vibration", "up"),),
        ("discharge check valve", "receiver pressure against load/unload cycle"),
        "inspect and replace the discharge check valve", "medium",
    ),
    Signature(
        "feed_valve_stuck", "tank feed valve stuck",
        (_s("InletFlow", "down", 2.0, required=True), _s("InletValvePosition", "down"),
         _s("Level", "down"), _s("Volume", "down"),
         _s("SuctionPressure", "down", 0.5, "coupled")),
        (),
        ("inlet valve actuator and positioner", "air supply to the valve"),
        "stroke the inlet valve; open the bypass if the level keeps falling", "high",
    ),
)

#: Which equipment feels another's faults (demo plant: the product line runs
#: T-101 -> F-101 -> P-101 -> HX-101, and the pump's flow fills the containers on CV-101,
#: so CV-101 feels P-101 but not the other way round; M-101 drives CV-101). Unknown
#: equipment has none.
DEMO_COUPLING: dict[str, tuple[str, ...]] = {
    "T-101": ("F-101", "P-101"),
    "F-101": ("T-101", "P-101"),
    "P-101": ("T-101", "F-101", "HX-101"),
    "HX-101": ("P-101",),
    "CV-101": ("M-101", "P-101"),
    "M-101": ("CV-101",),
    "C-101": (),
}

SENSOR_CHECKS = {
    "stuck_sensor": (
        "compare with a local gauge or a redundant transmitter",
        "the transmitter's wiring and the I/O card status",
    ),
    "sensor_drift": (
        "calibrate the transmitter against a reference",
        "compare with physically coupled measurements",
    ),
}


def signature(cause: str) -> Signature | None:
    """The signature of ``cause``, if it is a known fault mode."""
    return next((s for s in SIGNATURES if s.cause == cause), None)
