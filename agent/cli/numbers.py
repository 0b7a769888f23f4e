"""Numbers as a person reads them on a terminal: four significant digits, no exponent
for everyday magnitudes, integers and text as they are."""

from __future__ import annotations

import math

#: Significant digits a reading is shown with (a transmitter's noise lies below them).
DIGITS = 4


def readable(value: object, *, missing: str = "-") -> str:
    """'54.84' for 54.83924454999594, '12346' for 12345.6, '0.01235', '-' for None; ints,
    booleans and text unchanged; an exponent only below 0.0001 or from 1e9 up."""
    if value is None:
        return missing
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    if not math.isfinite(value) or value == 0:
        return f"{value:g}"
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude < -4 or magnitude >= 9:
        return f"{value:.{DIGITS - 1}e}"
    decimals = max(0, DIGITS - 1 - magnitude)
    return f"{value:.{decimals}f}"
