"""Engineering units the test plants use: the demo's table plus a few of their own,
each with its UNECE Recommendation 20 code (OPC UA EUInformation)."""

from __future__ import annotations

from plant.units import UNECE_NAMESPACE, UNITS, Unit

KIT_UNITS: dict[str, Unit] = {
    **UNITS,
    "mg_per_l": Unit("M1", "mg/l", "milligram per litre"),
    "l_per_h": Unit("E32", "l/h", "litre per hour"),
    "mbar": Unit("MBR", "mbar", "millibar"),
    "Pa": Unit("PAL", "Pa", "pascal"),
    "m": Unit("MTR", "m", "metre"),
    "K": Unit("KEL", "K", "kelvin"),
    "Hz": Unit("HTZ", "Hz", "hertz"),
    "bar_abs": Unit("BAR", "bar", "bar absolute"),
    "m3_per_h_air": Unit("MQH", "m³/h", "cubic metre per hour (air)"),
    "ratio": Unit("", "", "dimensionless ratio"),
}

__all__ = ["KIT_UNITS", "UNECE_NAMESPACE", "Unit"]
