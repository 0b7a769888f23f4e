"""The whole line coupled together: one step of every equipment model in flow order.

Couplings: tank level sets the pump's suction head; the strainer's resistance sits in the
pump's system curve; pump flow feeds the cooler and sets the container rate on the
conveyor and part of the air demand; ambient temperature reaches every motor, bearing and
the compressor. ``severities`` carries the process faults as {(fault, equipment): 0..1}.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from agent.twin.physics.common import Wander
from agent.twin.physics.compressor import CompressorParams, CompressorState, compressor_step
from agent.twin.physics.conveyor import ConveyorParams, ConveyorState, conveyor_step
from agent.twin.physics.filter import FilterParams, filter_dp_bar, filter_resistance
from agent.twin.physics.heat_exchanger import (
    HeatExchangerParams,
    HeatExchangerState,
    heat_exchanger_step,
)
from agent.twin.physics.motor import bearing_step, motor_current, winding_step
from agent.twin.physics.pump import PumpParams, PumpState, operating_point, pump_hydraulics_step
from agent.twin.physics.tank import TankParams, TankState, tank_step

Severities = dict[tuple[str, str], float]


@dataclass(frozen=True)
class LineParams:
    """Parameters of every piece of equipment and of the disturbances."""

    tank: TankParams = field(default_factory=TankParams)
    strainer: FilterParams = field(default_factory=FilterParams)
    pump: PumpParams = field(default_factory=PumpParams)
    cooler: HeatExchangerParams = field(default_factory=HeatExchangerParams)
    compressor: CompressorParams = field(default_factory=CompressorParams)
    conveyor: ConveyorParams = field(default_factory=ConveyorParams)
    ambient_c: float = 25.0
    feed_temp_c: float = 62.0
    coolant_supply_c: float = 18.0
    air_demand_m3h: float = 115.0
    #: Where a stuck feed valve ends up, % open.
    stuck_valve_pct: float = 12.0
    supply_voltage_v: float = 400.0


@dataclass
class LineState:
    """Everything that evolves, including the slow random disturbances."""

    tank: TankState = field(default_factory=TankState)
    pump: PumpState = field(default_factory=PumpState)
    cooler: HeatExchangerState = field(default_factory=HeatExchangerState)
    compressor: CompressorState = field(default_factory=CompressorState)
    conveyor: ConveyorState = field(default_factory=ConveyorState)
    filter_dp_bar: float = 0.2
    ambient: Wander = field(default_factory=lambda: Wander(25.0, 1.2, 7200.0, 25.0))
    feed_temp: Wander = field(default_factory=lambda: Wander(62.0, 0.8, 1800.0, 62.0))
    coolant_temp: Wander = field(default_factory=lambda: Wander(18.0, 0.7, 3600.0, 18.0))
    air_demand: Wander = field(default_factory=lambda: Wander(0.0, 6.0, 300.0, 0.0))
    voltage: Wander = field(default_factory=lambda: Wander(0.0, 2.0, 600.0, 0.0))
    #: Controller setpoints as operators (OPC UA writes) set them; None: the params' value.
    level_setpoint_pct: float | None = None
    outlet_setpoint_c: float | None = None
    pressure_setpoint_bar: float | None = None


def initial_state(p: LineParams) -> LineState:
    """A state near the healthy operating point, disturbances at their means."""
    s = LineState()
    s.ambient = Wander(p.ambient_c, 1.2, 7200.0, p.ambient_c)
    s.feed_temp = Wander(p.feed_temp_c, 0.8, 1800.0, p.feed_temp_c)
    s.coolant_temp = Wander(p.coolant_supply_c, 0.7, 3600.0, p.coolant_supply_c)
    s.tank.level_pct = p.tank.level_setpoint_pct
    return s


#: Setpoint tag -> the LineState field holding it.
SETPOINT_FIELDS: dict[str, str] = {
    "T-101.LevelSetpoint": "level_setpoint_pct",
    "HX-101.OutletTemperatureSetpoint": "outlet_setpoint_c",
    "C-101.PressureSetpoint": "pressure_setpoint_bar",
}


def line_step(
    p: LineParams, s: LineState, severities: Severities, rng: random.Random, dt: float
) -> None:
    """Advance the whole line by ``dt`` simulated seconds."""

    def sev(fault: str, equipment: str) -> float:
        return severities.get((fault, equipment), 0.0)

    ambient = s.ambient.step(rng, dt)
    feed_temp = s.feed_temp.step(rng, dt)
    coolant_temp = s.coolant_temp.step(rng, dt)
    demand_noise = s.air_demand.step(rng, dt)
    s.voltage.step(rng, dt)

    # Pump and strainer against the tank.
    pump, tank = s.pump, s.tank
    r_filter = filter_resistance(p.strainer, sev("filter_clogging", "F-101"))
    op = operating_point(
        p.pump,
        speed_frac=pump.speed_rpm / p.pump.motor.rated_speed_rpm,
        tank_head_m=tank.head_m(p.tank),
        tank_level_pct=tank.level_pct,
        filter_resistance=r_filter,
    )
    pump_hydraulics_step(p.pump, pump, op, dt)
    if pump.cavitation > 0.0:
        # Cavitation makes the flow erratic, not just lower.
        pump.flow_m3h *= 1.0 + 0.06 * pump.cavitation * rng.gauss(0.0, 1.0)
    s.filter_dp_bar = filter_dp_bar(r_filter, pump.flow_m3h)
    stuck = p.stuck_valve_pct if sev("feed_valve_stuck", "T-101") > 0.0 else None
    if stuck is not None:
        # The valve creeps towards its stuck position as the fault develops.
        stuck = tank.valve_pct + (stuck - tank.valve_pct) * sev("feed_valve_stuck", "T-101")
    tank_step(
        p.tank, tank, outflow_m3h=pump.flow_m3h, feed_temp_c=feed_temp, valve_stuck_pct=stuck,
        dt=dt, setpoint_pct=s.level_setpoint_pct,
    )
    pump.speed_rpm = (
        p.pump.motor.rated_speed_rpm - 25.0 * pump.shaft_kw / p.pump.motor.rated_power_kw
    )
    pump.current_a = motor_current(p.pump.motor, pump.shaft_kw / 0.9)
    pump.winding_c = winding_step(p.pump.motor, pump.winding_c, pump.current_a, ambient, dt)
    cav_shake = 3.5 * pump.cavitation * (1.0 + 0.5 * abs(rng.gauss(0.0, 1.0)))
    bearing_step(
        p.pump.bearing,
        pump.bearing,
        speed_frac=1.0,
        load_frac=pump.shaft_kw / p.pump.motor.rated_power_kw,
        wear=sev("bearing_wear", "P-101"),
        ambient_c=ambient,
        dt=dt,
        extra_vibration_mm_s=cav_shake,
    )

    heat_exchanger_step(
        p.cooler,
        s.cooler,
        product_flow_m3h=pump.flow_m3h,
        hot_in_c=tank.temperature_c + 0.3,
        coolant_in_c=coolant_temp,
        fouling=sev("hx_fouling", "HX-101"),
        supply_loss=sev("cooling_loss", "HX-101"),
        dt=dt,
        setpoint_c=s.outlet_setpoint_c,
    )

    demand = p.air_demand_m3h * (0.8 + 0.2 * pump.flow_m3h / 31.0) + demand_noise
    compressor_step(
        p.compressor,
        s.compressor,
        demand_m3h=max(demand, 0.0),
        leak=sev("compressor_valve_leak", "C-101"),
        wear=sev("bearing_wear", "C-101"),
        ambient_c=ambient,
        dt=dt,
        setpoint_bar=s.pressure_setpoint_bar,
    )

    cv, cp = s.conveyor, p.conveyor
    jam = max(sev("conveyor_jam", "CV-101"), sev("conveyor_jam", "M-101"))
    conveyor_step(cp, cv, product_flow_m3h=pump.flow_m3h, jam=jam, dt=dt)
    cv.winding_c = winding_step(cp.motor, cv.winding_c, cv.current_a, ambient, dt)
    rated_torque = cp.motor.rated_power_kw * 1000.0 / (cp.motor.rated_speed_rpm * 0.10472)
    bearing_step(
        cp.bearing,
        cv.bearing,
        speed_frac=cv.speed_frac,
        load_frac=cv.torque_nm / rated_torque,
        wear=sev("bearing_wear", "M-101"),
        ambient_c=ambient,
        dt=dt,
    )


def setpoints(p: LineParams, s: LineState) -> dict[str, float]:
    """The setpoints in force: an operator's where one was set, else the parameters'."""
    return {
        "T-101.LevelSetpoint": p.tank.level_setpoint_pct
        if s.level_setpoint_pct is None else s.level_setpoint_pct,
        "HX-101.OutletTemperatureSetpoint": p.cooler.outlet_setpoint_c
        if s.outlet_setpoint_c is None else s.outlet_setpoint_c,
        "C-101.PressureSetpoint": p.compressor.pressure_setpoint_bar
        if s.pressure_setpoint_bar is None else s.pressure_setpoint_bar,
    }


def true_values(p: LineParams, s: LineState) -> dict[str, float]:
    """The noise-free value of every tag, keyed by tag name."""
    t, pu, hx, c, cv = s.tank, s.pump, s.cooler, s.compressor, s.conveyor
    cp = p.conveyor
    sp = setpoints(p, s)
    return {
        "T-101.Level": t.level_pct,
        "T-101.Temperature": t.temperature_c,
        "T-101.InletFlow": t.inlet_flow_m3h,
        "T-101.InletValvePosition": t.valve_pct,
        "T-101.Volume": t.volume_m3(p.tank),
        "T-101.LevelSetpoint": sp["T-101.LevelSetpoint"],
        "F-101.DifferentialPressure": s.filter_dp_bar * 100.0,
        "F-101.OutletPressure": pu.suction_bar_abs + 0.01,
        "P-101.FlowRate": pu.flow_m3h,
        "P-101.DischargePressure": pu.discharge_bar_g,
        "P-101.SuctionPressure": pu.suction_bar_abs,
        "P-101.MotorCurrent": pu.current_a,
        "P-101.MotorWindingTemperature": pu.winding_c,
        "P-101.BearingTemperature": pu.bearing.temperature_c,
        "P-101.Vibration": pu.bearing.vibration_mm_s,
        "P-101.Speed": pu.speed_rpm,
        "P-101.Power": pu.shaft_kw / 0.9,
        "HX-101.HotInletTemperature": hx.hot_in_c,
        "HX-101.HotOutletTemperature": hx.hot_out_c,
        "HX-101.ColdInletTemperature": hx.cold_in_c,
        "HX-101.ColdOutletTemperature": hx.cold_out_c,
        "HX-101.CoolantFlow": hx.coolant_flow_m3h,
        "HX-101.CoolantValvePosition": hx.valve_pct,
        "HX-101.HeatDuty": hx.duty_kw,
        "HX-101.OutletTemperatureSetpoint": sp["HX-101.OutletTemperatureSetpoint"],
        "C-101.DischargePressure": c.pressure_bar_g,
        "C-101.DischargeTemperature": c.discharge_temp_c,
        "C-101.OilTemperature": c.oil_temp_c,
        "C-101.OilPressure": c.oil_pressure_bar,
        "C-101.MotorCurrent": c.current_a,
        "C-101.Vibration": c.bearing.vibration_mm_s,
        "C-101.BearingTemperature": c.bearing.temperature_c,
        "C-101.AirFlow": c.air_flow_m3h,
        "C-101.DutyCycle": c.duty_pct,
        "C-101.PressureSetpoint": sp["C-101.PressureSetpoint"],
        "CV-101.BeltSpeed": cv.belt_speed_m_s(cp),
        "CV-101.Load": cv.load_kg(cp),
        "CV-101.Throughput": cv.throughput_per_min,
        "CV-101.BeltTension": cv.tension_kn(cp),
        "M-101.Current": cv.current_a,
        "M-101.WindingTemperature": cv.winding_c,
        "M-101.BearingTemperature": cv.bearing.temperature_c,
        "M-101.Vibration": cv.bearing.vibration_mm_s,
        "M-101.Speed": cv.speed_frac * cp.motor.rated_speed_rpm,
        "M-101.Torque": cv.torque_nm,
        "M-101.Power": cv.power_kw,
        "M-101.SupplyVoltage": p.supply_voltage_v + s.voltage.value,
    }
