"""The demo line's equipment and process variables: names, units, normal ranges, noise.

This catalogue is the single source of the address space (plant.server builds nodes from
it), of the alarm limits (the EURange is the normal operating range) and of the sensor
noise the model adds. Tag name = "<equipment>.<variable>".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EquipmentClass = Literal[
    "tank", "filter", "pump", "heat_exchanger", "compressor", "conveyor", "motor"
]
EQUIPMENT_CLASSES: tuple[EquipmentClass, ...] = (
    "tank",
    "filter",
    "pump",
    "heat_exchanger",
    "compressor",
    "conveyor",
    "motor",
)


@dataclass(frozen=True)
class EquipmentSpec:
    """One piece of equipment; ``primary`` is the variable a sensor fault hits by default."""

    name: str
    eq_class: EquipmentClass
    description: str
    primary: str


@dataclass(frozen=True)
class TagSpec:
    """One process variable. ``low``/``high`` are the normal operating limits (EURange)."""

    equipment: str
    variable: str
    unit: str
    low: float
    high: float
    description: str
    noise: float
    #: A setpoint clients may write (the physics follows it); everything else is read-only.
    writable: bool = False

    @property
    def name(self) -> str:
        """The tag name, e.g. "P-101.FlowRate"."""
        return f"{self.equipment}.{self.variable}"

    @property
    def span(self) -> float:
        """Width of the normal range."""
        return self.high - self.low


EQUIPMENT: tuple[EquipmentSpec, ...] = (
    EquipmentSpec("T-101", "tank", "Feed tank, level-controlled buffer ahead of the pump", "Level"),
    EquipmentSpec(
        "F-101", "filter", "Inlet strainer on the suction of P-101", "DifferentialPressure"
    ),
    EquipmentSpec(
        "P-101", "pump", "Centrifugal product pump, 11 kW, 2950 r/min", "DischargePressure"
    ),
    EquipmentSpec(
        "HX-101",
        "heat_exchanger",
        "Product cooler, counter-flow, cooling water",
        "HotOutletTemperature",
    ),
    EquipmentSpec(
        "C-101", "compressor", "Oil-injected screw air compressor, 22 kW", "DischargePressure"
    ),
    EquipmentSpec("CV-101", "conveyor", "Packing conveyor for filled containers", "BeltSpeed"),
    EquipmentSpec(
        "M-101", "motor", "Drive motor of conveyor CV-101, 5.5 kW, on a VFD", "WindingTemperature"
    ),
)


def _t(eq: str, var: str, unit: str, low: float, high: float, desc: str, noise: float) -> TagSpec:
    return TagSpec(eq, var, unit, low, high, desc, noise)


TAGS: tuple[TagSpec, ...] = (
    _t("T-101", "Level", "percent", 35, 75, "Tank level, % of height", 0.15),
    _t("T-101", "Temperature", "degC", 55, 70, "Product temperature in the tank", 0.1),
    _t("T-101", "InletFlow", "m3_per_h", 15, 48, "Feed flow into the tank", 0.3),
    _t("T-101", "InletValvePosition", "percent", 25, 80, "Inlet control valve opening", 0.2),
    _t("T-101", "Volume", "m3", 4.2, 9.0, "Liquid volume in the tank", 0.02),
    TagSpec("T-101", "LevelSetpoint", "percent", 35, 75, "Level controller setpoint (writable)",
            0.0, writable=True),
    _t("F-101", "DifferentialPressure", "kPa", 8, 45, "Pressure drop across the strainer", 0.4),
    _t("F-101", "OutletPressure", "bar", 0.95, 1.7, "Strainer outlet pressure, absolute", 0.005),
    _t("P-101", "FlowRate", "m3_per_h", 27, 35, "Pump discharge flow", 0.25),
    _t("P-101", "DischargePressure", "bar", 3.9, 5.2, "Pump discharge pressure, gauge", 0.02),
    _t("P-101", "SuctionPressure", "bar", 0.95, 1.7, "Pump suction pressure, absolute", 0.005),
    _t("P-101", "MotorCurrent", "A", 10.0, 17.0, "Pump motor line current", 0.08),
    _t("P-101", "MotorWindingTemperature", "degC", 35, 85, "Pump motor winding temperature", 0.2),
    _t("P-101", "BearingTemperature", "degC", 35, 72, "Pump drive-end bearing temperature", 0.15),
    _t(
        "P-101",
        "Vibration",
        "mm_per_s",
        0.5,
        4.5,
        "Pump bearing housing vibration velocity, RMS",
        0.08,
    ),
    _t("P-101", "Speed", "rpm", 2900, 3000, "Pump shaft speed", 3.0),
    _t("P-101", "Power", "kW", 4.5, 7.5, "Pump motor electrical power", 0.05),
    _t("HX-101", "HotInletTemperature", "degC", 55, 70, "Product inlet temperature", 0.1),
    _t(
        "HX-101",
        "HotOutletTemperature",
        "degC",
        30,
        40,
        "Product outlet temperature (controlled)",
        0.1,
    ),
    _t("HX-101", "ColdInletTemperature", "degC", 10, 26, "Cooling water supply temperature", 0.1),
    _t("HX-101", "ColdOutletTemperature", "degC", 30, 58, "Cooling water return temperature", 0.1),
    _t("HX-101", "CoolantFlow", "m3_per_h", 15, 48, "Cooling water flow", 0.3),
    _t(
        "HX-101",
        "CoolantValvePosition",
        "percent",
        30,
        92,
        "Cooling water control valve opening",
        0.2,
    ),
    _t("HX-101", "HeatDuty", "kW", 700, 1250, "Heat removed from the product", 5.0),
    TagSpec("HX-101", "OutletTemperatureSetpoint", "degC", 30, 40,
            "Product outlet temperature controller setpoint (writable)", 0.0, writable=True),
    _t("C-101", "DischargePressure", "bar", 6.4, 7.6, "Air receiver pressure, gauge", 0.02),
    _t("C-101", "DischargeTemperature", "degC", 60, 92, "Air/oil discharge temperature", 0.2),
    _t("C-101", "OilTemperature", "degC", 50, 78, "Oil temperature after the cooler", 0.15),
    _t("C-101", "OilPressure", "bar", 2.2, 3.4, "Oil injection pressure", 0.01),
    _t("C-101", "MotorCurrent", "A", 18, 39, "Compressor motor line current", 0.2),
    _t(
        "C-101",
        "Vibration",
        "mm_per_s",
        0.8,
        5.0,
        "Compressor airend vibration velocity, RMS",
        0.08,
    ),
    _t("C-101", "BearingTemperature", "degC", 40, 80, "Airend bearing temperature", 0.15),
    _t("C-101", "AirFlow", "m3_per_h", 70, 170, "Delivered free air", 1.0),
    _t("C-101", "DutyCycle", "percent", 35, 90, "Average load over the last ten minutes", 0.1),
    TagSpec("C-101", "PressureSetpoint", "bar", 6.4, 7.6,
            "Receiver pressure controller setpoint, gauge (writable)", 0.0, writable=True),
    _t("CV-101", "BeltSpeed", "m_per_s", 1.1, 1.3, "Belt speed", 0.004),
    _t("CV-101", "Load", "kg", 100, 260, "Product mass on the belt", 1.5),
    _t("CV-101", "Throughput", "per_min", 400, 620, "Containers leaving the belt per minute", 3.0),
    _t("CV-101", "BeltTension", "kN", 2.0, 4.5, "Belt pull at the drive drum", 0.02),
    _t("M-101", "Current", "A", 5.0, 11.0, "Drive motor line current", 0.05),
    _t("M-101", "WindingTemperature", "degC", 35, 95, "Drive motor winding temperature", 0.2),
    _t("M-101", "BearingTemperature", "degC", 35, 72, "Drive motor bearing temperature", 0.15),
    _t("M-101", "Vibration", "mm_per_s", 0.5, 4.5, "Drive motor vibration velocity, RMS", 0.08),
    _t("M-101", "Speed", "rpm", 1400, 1500, "Drive motor speed", 2.0),
    _t("M-101", "Torque", "Nm", 15, 36, "Drive motor torque", 0.2),
    _t("M-101", "Power", "kW", 2.0, 5.5, "Drive motor mechanical power", 0.03),
    _t("M-101", "SupplyVoltage", "V", 380, 420, "VFD supply voltage", 1.0),
)


def equipment_by_name() -> dict[str, EquipmentSpec]:
    """Equipment keyed by browse name."""
    return {e.name: e for e in EQUIPMENT}


#: The setpoint tags, each bound to the controller that follows it.
SETPOINT_TAGS: tuple[str, ...] = tuple(t.name for t in TAGS if t.writable)


def tags_by_name() -> dict[str, TagSpec]:
    """Tags keyed by tag name."""
    return {t.name: t for t in TAGS}
