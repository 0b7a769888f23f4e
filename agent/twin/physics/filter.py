"""Inlet strainer F-101 on the suction side of pump P-101.

Its resistance (bar per (m³/h)²) grows as the element clogs; the pressure drop across it
is resistance times flow squared, so clogging both raises the differential pressure and,
through the pump curve, lowers the flow.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FilterParams:
    """Clean resistance and how far a fully clogged element multiplies it."""

    clean_resistance: float = 0.00022
    clogged_factor: float = 4.0


def filter_resistance(p: FilterParams, clogging: float) -> float:
    """Resistance for a clogging severity in [0, 1]."""
    return p.clean_resistance * (1.0 + (p.clogged_factor - 1.0) * clogging)


def filter_dp_bar(resistance: float, flow_m3h: float) -> float:
    """Pressure drop across the element in bar."""
    return resistance * flow_m3h * flow_m3h
