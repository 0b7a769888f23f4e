"""Centrifugal pumps in parallel on one header against a quadratic system curve.

Each running pump follows ``dp = shutoff_dp * s² - curve_k * Q²`` (s = speed / rated);
the system asks ``dp = static_dp + resistance * Q_total²``. Identical pumps at the same
speed share the flow equally, so the intersection has a closed form; it needs no
iteration and no time step, so it is exact at any step length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class PumpCurve:
    """The head curve of one pump at rated speed (bar, m³/h)."""

    shutoff_dp_bar: float
    curve_k: float


def parallel_flow(curve: PumpCurve, *, pumps: int, speed_frac: float, static_dp_bar: float,
                  resistance: float) -> float:
    """Total flow (m³/h) of ``pumps`` identical pumps running in parallel at
    ``speed_frac``; 0 when none runs or the pumps cannot overcome the static head."""
    if pumps <= 0:
        return 0.0
    drive = curve.shutoff_dp_bar * speed_frac**2 - static_dp_bar
    if drive <= 0.0:
        return 0.0
    # Each pump carries Q/n: shutoff s² - k (Q/n)² = static + R Q².
    return math.sqrt(drive / (resistance + curve.curve_k / pumps**2))


def pump_dp_bar(curve: PumpCurve, flow_m3h: float, speed_frac: float) -> float:
    """Differential pressure a pump makes at its own flow."""
    return max(0.0, curve.shutoff_dp_bar * speed_frac**2 - curve.curve_k * flow_m3h**2)


def hydraulic_kw(flow_m3h: float, dp_bar: float) -> float:
    """Hydraulic power: m³/s times kPa is kW."""
    return flow_m3h / 3600.0 * dp_bar * 100.0
