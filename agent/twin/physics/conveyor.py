"""Packing conveyor CV-101 driven by motor M-101 through a VFD and a gearbox.

Filled containers arrive at a rate set by the pump flow; the belt carries them off. The
drive torque is friction plus a share per kilogram on the belt. A jam adds drag: torque
and current spike, the VFD hits its current limit and the belt slows, so containers pile
up and the load grows further.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.twin.physics.common import clamp, lag
from agent.twin.physics.motor import BearingParams, BearingState, MotorParams


@dataclass(frozen=True)
class ConveyorParams:
    """Belt, product, gearbox and the drive limits."""

    belt_length_m: float = 24.0
    belt_speed_m_s: float = 1.2
    item_mass_kg: float = 1.05
    litres_per_item: float = 1.0
    #: Upstream stops feeding beyond this (twice the normal density); it also keeps the
    #: loaded belt within what the drive can restart once a jam is cleared.
    max_items_on_belt: float = 420.0
    friction_torque_nm: float = 12.0
    torque_per_kg_nm: float = 0.08
    #: Extra motor torque of a full jam (drag of stuck product on the side guides).
    jam_torque_nm: float = 55.0
    gear_ratio: float = 25.5
    drum_radius_m: float = 0.2
    current_limit_a: float = 16.5
    speed_tau_s: float = 1.5
    motor: MotorParams = field(
        default_factory=lambda: MotorParams(
            rated_power_kw=5.5,
            rated_current_a=11.0,
            no_load_current_a=4.0,
            rated_speed_rpm=1460.0,
            winding_rise_k=75.0,
            winding_tau_s=900.0,
        )
    )
    bearing: BearingParams = field(default_factory=BearingParams)


@dataclass
class ConveyorState:
    """Items on the belt, speeds, torque, current and temperatures of the drive."""

    items_on_belt: float = 140.0
    speed_frac: float = 1.0
    throughput_per_min: float = 500.0
    torque_nm: float = 23.0
    current_a: float = 7.5
    power_kw: float = 3.5
    winding_c: float = 55.0
    bearing: BearingState = field(default_factory=BearingState)

    def load_kg(self, p: ConveyorParams) -> float:
        """Product mass on the belt."""
        return self.items_on_belt * p.item_mass_kg

    def belt_speed_m_s(self, p: ConveyorParams) -> float:
        """Belt speed."""
        return self.speed_frac * p.belt_speed_m_s

    def tension_kn(self, p: ConveyorParams) -> float:
        """Effective belt pull at the drive drum."""
        return self.torque_nm * p.gear_ratio * 0.95 / p.drum_radius_m / 1000.0


def conveyor_step(
    p: ConveyorParams, s: ConveyorState, *, product_flow_m3h: float, jam: float, dt: float
) -> None:
    """Advance belt and drive by ``dt``; ``jam`` is the jam severity in [0, 1]."""
    arrivals_per_s = product_flow_m3h * 1000.0 / 3600.0 / p.litres_per_item
    speed = s.speed_frac * p.belt_speed_m_s
    departures_per_s = s.items_on_belt * speed / p.belt_length_m
    s.items_on_belt = clamp(
        s.items_on_belt + (arrivals_per_s - departures_per_s) * dt, 0.0, p.max_items_on_belt
    )
    s.throughput_per_min = departures_per_s * 60.0
    demand_torque = p.friction_torque_nm + p.torque_per_kg_nm * s.load_kg(p) + p.jam_torque_nm * jam
    m = p.motor
    rated_torque = m.rated_power_kw * 1000.0 / (m.rated_speed_rpm * 2 * 3.14159265 / 60.0)
    torque_current = (m.rated_current_a**2 - m.no_load_current_a**2) ** 0.5 / rated_torque
    wanted_current = (m.no_load_current_a**2 + (torque_current * demand_torque) ** 2) ** 0.5
    # In current limit the VFD lowers the frequency: torque is capped and the belt slows.
    if wanted_current > p.current_limit_a:
        torque = ((p.current_limit_a**2 - m.no_load_current_a**2) ** 0.5) / torque_current
        target_speed = clamp(1.0 - 2.2 * (demand_torque - torque) / torque, 0.1, 1.0)
    else:
        torque = demand_torque
        target_speed = 1.0
    s.speed_frac = lag(s.speed_frac, target_speed, p.speed_tau_s, dt)
    s.torque_nm = lag(s.torque_nm, torque, p.speed_tau_s, dt)
    s.current_a = (m.no_load_current_a**2 + (torque_current * s.torque_nm) ** 2) ** 0.5
    s.power_kw = s.torque_nm * s.speed_frac * m.rated_speed_rpm * 2 * 3.14159265 / 60.0 / 1000.0
