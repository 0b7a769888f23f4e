"""Saturation pressure of R-134a from its temperature (Clausius-Clapeyron fit).

``ln p[kPa] = A - B / T[K]`` through 0 °C / 293 kPa and 40 °C / 1017 kPa; it gives the
normal boiling point (-26 °C) within 4 kPa, close enough for chiller gauges.
"""

from __future__ import annotations

import math

_A, _B = 15.426, 2662.0


def saturation_bar_abs(temp_c: float) -> float:
    """Saturation pressure (bar absolute) at ``temp_c``."""
    return math.exp(_A - _B / (temp_c + 273.15)) / 100.0


def saturation_temp_c(pressure_bar_abs: float) -> float:
    """Saturation temperature (°C) at ``pressure_bar_abs``."""
    return _B / (_A - math.log(max(pressure_bar_abs, 1e-3) * 100.0)) - 273.15
