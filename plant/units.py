"""Engineering units of the demo plant, with their UNECE Recommendation 20 codes.

OPC UA (Part 8, EUInformation) identifies a unit by its UNECE common code packed into an
Int32: each character of the code shifted into the next byte.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The namespace OPC UA uses for UNECE unit codes.
UNECE_NAMESPACE = "http://www.opcfoundation.org/UA/units/un/cefact"


@dataclass(frozen=True)
class Unit:
    """One engineering unit: UNECE common code, display symbol and description."""

    code: str
    symbol: str
    description: str

    @property
    def unit_id(self) -> int:
        """The OPC UA UnitId: the code's characters packed big-endian, -1 without a code."""
        if not self.code:
            return -1
        value = 0
        for char in self.code:
            value = (value << 8) | ord(char)
        return value


UNITS: dict[str, Unit] = {
    "percent": Unit("P1", "%", "percent"),
    "degC": Unit("CEL", "°C", "degree Celsius"),
    "m3_per_h": Unit("MQH", "m³/h", "cubic metre per hour"),
    "m3": Unit("MTQ", "m³", "cubic metre"),
    "bar": Unit("BAR", "bar", "bar (gauge unless the description says absolute)"),
    "kPa": Unit("KPA", "kPa", "kilopascal"),
    "A": Unit("AMP", "A", "ampere"),
    "V": Unit("VLT", "V", "volt"),
    "kW": Unit("KWT", "kW", "kilowatt"),
    "mm_per_s": Unit("C16", "mm/s", "millimetre per second"),
    "rpm": Unit("RPM", "r/min", "revolutions per minute"),
    "m_per_s": Unit("MTS", "m/s", "metre per second"),
    "kg": Unit("KGM", "kg", "kilogram"),
    "Nm": Unit("NU", "N·m", "newton metre"),
    "kN": Unit("B47", "kN", "kilonewton"),
    "per_min": Unit("C94", "1/min", "reciprocal minute (items per minute)"),
}
