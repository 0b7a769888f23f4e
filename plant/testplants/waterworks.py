"""Nordbach waterworks raw water station, as a DCS/PLC gateway exports it.

Naming style: ISA-5.1 loop tags in one flat folder of the gateway device
(``PLC_PS01``), mixed conventions (``TT_2034.PV``, ``PT-2002/PV``, ``VT2045B``,
``PDI_2010``), one flow loop as an object one folder deeper (``FIC_3010`` with PV, SP,
OUT); the only human words are the Description attributes (upper-case DCS style), a few
of them empty; some tags have no unit or no range.

Process: two raw water pumps (P-2001, P-2002) lift water from the well (W-1001) in
parallel through a self-cleaning strainer (S-2010) and the level control valve LV-4001
into the clear water tank (T-4001), which supplies the town. A hypochlorite dosing skid
(DS-3010) doses flow-paced into the raw water main; an analyser reads the free chlorine
residual after the contact tank.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from agent.twin.physics.common import BAR_PER_METRE, PIParams, PIState, Wander, clamp, lag, pi_step
from agent.twin.physics.dosing import DosingParams, DosingState, dosing_step
from agent.twin.physics.filter import FilterParams, filter_dp_bar, filter_resistance
from agent.twin.physics.hydraulics import PumpCurve, hydraulic_kw, parallel_flow, pump_dp_bar
from agent.twin.physics.motor import (
    BearingParams,
    BearingState,
    MotorParams,
    bearing_step,
    motor_current,
    winding_step,
)
from agent.twin.physics.pump import PumpParams, hydraulic_efficiency
from plant.kit.process import Severities, sev
from plant.kit.spec import EquipmentDef, FaultDef, PlantDef, Symptom, TagDef

DEVICE = ("PLC_PS01",)
LOOP = ("PLC_PS01", "FIC_3010")


def _tag(key: str, browse: str, desc: str, unit: str | None, low: float, high: float,
         noise: float, *, folder: tuple[str, ...] = DEVICE, **kw: object) -> TagDef:
    quantity = key.split(".", 1)[1]
    # Gateway item ids: "<device>.<item>", the loop object's items under its name.
    node = ".".join(["PS01", *folder[1:], browse])
    return TagDef(key=key, quantity=quantity, browse_name=browse, folder=folder,
                  node=node, description=desc, unit=unit,
                  low=low, high=high, noise=noise, **kw)  # type: ignore[arg-type]


TAGS: tuple[TagDef, ...] = (
    _tag("W-1001.level", "LT_1001.PV", "RAW WATER WELL LEVEL", "m", 2.5, 6.0, 0.01),
    _tag("P-2001.discharge_pressure", "PT_2001.PV", "RW PUMP 1 DISCH PRESS", "bar", 3.5, 6.0,
         0.02),
    _tag("P-2001.bearing_temperature", "TT_2034.PV", "RW PUMP 1 DE BRG TEMP", "degC", 10.0,
         70.0, 0.1),
    _tag("P-2001.vibration", "VT_2035.PV", "RW PUMP 1 BRG VIB", "mm_per_s", 0.0, 4.5, 0.06),
    _tag("P-2001.motor_current", "II_2001", "RW PUMP 1 MOTOR CURRENT", "A", 15.0, 38.0, 0.1,
         show_range=False),
    _tag("P-2001.running", "YS_2001", "RW PUMP 1 RUNNING", None, 0, 1, 0.0, show_range=False,
         alarm=False, data_type="Boolean"),
    _tag("P-2002.discharge_pressure", "PT-2002/PV", "RW PUMP 2 DISCH PRESS", "bar", 3.5, 6.0,
         0.02),
    _tag("P-2002.bearing_temperature", "TT_2044.PV", "RW PUMP 2 DE BRG TEMP", "degC", 10.0,
         70.0, 0.1),
    _tag("P-2002.vibration", "VT2045B", "RW PUMP 2 NDE BRG VIB", "mm_per_s", 0.0, 4.5, 0.06,
         show_range=False),
    _tag("P-2002.motor_current", "II_2002", "RW PUMP 2 MOTOR CURRENT", None, 15.0, 38.0, 0.1,
         show_range=False),
    _tag("P-2002.running", "YS_2002", "", None, 0, 1, 0.0, show_range=False, alarm=False,
         data_type="Boolean"),
    _tag("S-2010.differential_pressure", "PDI_2010", "RW STRAINER DIFF PRESS", "mbar", 0.0,
         400.0, 2.0),
    _tag("T-4001.inlet_flow", "FIT_2010.PV", "RAW WATER FLOW TO CLEAR WATER TANK", "m3_per_h",
         120.0, 240.0, 0.8),
    _tag("DS-3010.flow", "PV", "HYPOCHLORITE DOSING FLOW", "l_per_h", 0.4, 3.0, 0.01,
         folder=LOOP),
    _tag("DS-3010.flow_setpoint", "SP", "HYPOCHLORITE DOSING FLOW SETPOINT", "l_per_h", 0.4,
         3.0, 0.0, folder=LOOP, alarm=False, exact=True),
    _tag("DS-3010.stroke", "OUT", "DOSING PUMP STROKE OUTPUT", "percent", 0.0, 95.0, 0.1,
         folder=LOOP, alarm=False),
    _tag("DS-3010.residual_chlorine", "AIT_3020.PV", "FREE CHLORINE RESIDUAL", "mg_per_l",
         0.3, 1.0, 0.005),
    _tag("DS-3010.tank_level", "LT_3001", "", "percent", 10.0, 100.0, 0.1, show_range=False,
         alarm=False),
    _tag("LV-4001.output", "LY_4001", "CWT INLET VALVE OUTPUT", "percent", 0.0, 100.0, 0.1,
         alarm=False),
    _tag("LV-4001.position", "ZT_4001.PV", "CWT INLET VALVE POSITION", "percent", 0.0, 100.0,
         0.2, alarm=False),
    _tag("T-4001.level", "LT_4001.PV", "CLEAR WATER TANK LEVEL", "percent", 40.0, 90.0, 0.08),
    _tag("T-4001.level_setpoint", "LIC_4001.SP", "CLEAR WATER TANK LEVEL SETPOINT", "percent",
         40.0, 90.0, 0.0, alarm=False, exact=True),
    _tag("T-4001.outlet_flow", "FIT_4010.PV", "TREATED WATER TO DISTRIBUTION", "m3_per_h",
         100.0, 260.0, 0.8),
    _tag("T-4001.temperature", "TT_4005.PV", "", "degC", 2.0, 20.0, 0.03, show_range=False),
)

EQUIPMENT: tuple[EquipmentDef, ...] = (
    EquipmentDef("W-1001", "tank", ("raw water well", "well"), "Raw water well",
                 "W-1001.level"),
    EquipmentDef("P-2001", "pump", ("raw water pump 1", "pump 1"),
                 "Raw water pump 1, 22 kW", "P-2001.discharge_pressure"),
    EquipmentDef("P-2002", "pump", ("raw water pump 2", "pump 2"),
                 "Raw water pump 2, 22 kW", "P-2002.discharge_pressure"),
    EquipmentDef("S-2010", "filter", ("raw water strainer", "strainer"),
                 "Self-cleaning raw water strainer", "S-2010.differential_pressure"),
    EquipmentDef("DS-3010", "dosing_skid", ("hypochlorite dosing skid", "dosing skid",
                                            "chlorine dosing"),
                 "Sodium hypochlorite dosing skid with its residual analyser",
                 "DS-3010.residual_chlorine", folder=LOOP),
    EquipmentDef("LV-4001", "valve", ("clear water tank inlet valve", "inlet valve",
                                      "level control valve"),
                 "Clear water tank inlet level control valve", "LV-4001.position"),
    EquipmentDef("T-4001", "tank", ("clear water tank", "reservoir"), "Clear water tank",
                 "T-4001.level"),
)

FAULTS: tuple[FaultDef, ...] = (
    FaultDef("pump.bearing_wear", ("P-2001", "P-2002"),
             "Rolling bearing damage: vibration and bearing temperature creep up, then "
             "accelerate.", 2400.0, "accelerating",
             (Symptom("P-2001.vibration", "up"), Symptom("P-2001.bearing_temperature", "up"))),
    FaultDef("filter.clogging", ("S-2010",),
             "Strainer screen loading (backwash failed): differential pressure rises, the "
             "flow falls until the level valve opens further.", 1800.0, "accelerating",
             (Symptom("S-2010.differential_pressure", "up"), Symptom("T-4001.inlet_flow", "down"))),
    FaultDef("dosing_skid.loss_of_prime", ("DS-3010",),
             "Dosing pump lost its prime (gas in the head): delivered flow falls, the stroke "
             "output runs to its maximum, the chlorine residual falls.", 300.0, "first_order",
             (Symptom("DS-3010.flow", "down"), Symptom("DS-3010.stroke", "up"),
              Symptom("DS-3010.residual_chlorine", "down"))),
    FaultDef("valve.stuck", ("LV-4001",),
             "Inlet valve actuator seized, the valve drifting to 25 % and staying: its "
             "position no longer follows the controller output, the inflow and the tank "
             "level fall.", 20.0, "first_order",
             (Symptom("LV-4001.position", "down"), Symptom("LV-4001.output", "up"),
              Symptom("T-4001.inlet_flow", "down"), Symptom("T-4001.level", "down"))),
    FaultDef("instrument.drift", (), "A transmitter drifting: its reading gains a slowly "
             "growing offset while the process is unchanged.", 1200.0, "ramp", sensor=True),
    FaultDef("instrument.stuck", (), "A transmitter frozen at its last reading, without "
             "noise, while the process moves on.", 0.0, "step", sensor=True),
)

COUPLINGS = (("W-1001", "P-2001"), ("W-1001", "P-2002"), ("P-2001", "S-2010"),
             ("P-2002", "S-2010"), ("S-2010", "P-2001"), ("S-2010", "P-2002"),
             ("S-2010", "T-4001"), ("LV-4001", "T-4001"), ("LV-4001", "P-2001"),
             ("LV-4001", "P-2002"), ("P-2001", "T-4001"), ("P-2002", "T-4001"),
             ("T-4001", "DS-3010"), ("S-2010", "DS-3010"))

CURVE = PumpCurve(shutoff_dp_bar=6.5, curve_k=1.85e-4)
PIPE_RESISTANCE = 3.2e-5
VALVE_RESISTANCE = 1.48e-5
STATIC_LIFT_BAR = 2.0
TANK_M3 = 200.0 * 6.0


@dataclass
class _Pump:
    motor: MotorParams
    bearing: BearingParams
    state: BearingState = field(default_factory=lambda: BearingState(45.0, 1.6))
    current_a: float = 26.0
    winding_c: float = 60.0
    dp_bar: float = 4.5


@dataclass
class WaterworksProcess:
    """The coupled physics of the station."""

    pumps: dict[str, _Pump] = field(default_factory=lambda: {
        "P-2001": _Pump(MotorParams(22.0, 40.0, 12.0), BearingParams()),
        "P-2002": _Pump(MotorParams(22.0, 40.0, 12.0),
                        BearingParams(speed_rise_k=9.0, load_rise_k=11.0,
                                      vibration_base_mm_s=1.0)),
    })
    strainer: FilterParams = field(default_factory=lambda: FilterParams(4.6e-6, 5.0))
    dosing_p: DosingParams = field(default_factory=lambda: DosingParams(
        max_flow_l_h=4.0, dose_setpoint_mg_l=0.95, flow_control=PIParams(kp=0.4, ti_s=15.0,
                                                                         bias=35.0)))
    dosing: DosingState = field(default_factory=lambda: DosingState(35.0, 1.35, 1.35, 0.95, 0.6))
    level_control: PIParams = field(default_factory=lambda: PIParams(kp=8.0, ti_s=900.0,
                                                                     bias=60.0))
    level_pi: PIState = field(default_factory=PIState)
    level_setpoint: float = 70.0
    level_pct: float = 70.0
    valve_out: float = 60.0
    valve_pos: float = 60.0
    flow_m3h: float = 185.0
    strainer_dp_bar: float = 0.15
    well_m: float = 4.3
    demand: Wander = field(default_factory=lambda: Wander(180.0, 14.0, 1800.0, 180.0))
    chlorine_demand: Wander = field(default_factory=lambda: Wander(0.36, 0.03, 3600.0, 0.36))
    ambient: Wander = field(default_factory=lambda: Wander(18.0, 1.0, 7200.0, 18.0))
    water_temp: Wander = field(default_factory=lambda: Wander(9.5, 0.3, 7200.0, 9.5))
    outflow_m3h: float = 180.0
    hypo_tank_pct: float = 72.0

    def step(self, severities: Severities, rng: random.Random, dt: float) -> None:
        """One step of the whole station."""
        ambient = self.ambient.step(rng, dt)
        self.water_temp.step(rng, dt)
        self.outflow_m3h = max(60.0, self.demand.step(rng, dt))
        # Level control: a level below its setpoint opens the inlet valve.
        error = self.level_setpoint - self.level_pct
        self.valve_out = pi_step(self.level_control, self.level_pi, error, dt)
        stuck = sev(severities, "valve.stuck", "LV-4001")
        commanded = self.valve_out * (1.0 - stuck) + 25.0 * stuck
        self.valve_pos = lag(self.valve_pos, commanded, 8.0, dt)
        opening = max(self.valve_pos / 100.0, 0.05)
        r_strainer = filter_resistance(self.strainer, sev(severities, "filter.clogging", "S-2010"))
        resistance = PIPE_RESISTANCE + r_strainer + VALVE_RESISTANCE / opening**2
        static = STATIC_LIFT_BAR - BAR_PER_METRE * (self.well_m - 4.0)
        flow = parallel_flow(CURVE, pumps=2, speed_frac=1.0, static_dp_bar=static,
                             resistance=resistance)
        self.flow_m3h = lag(self.flow_m3h, flow, 3.0, dt)
        self.strainer_dp_bar = filter_dp_bar(r_strainer, self.flow_m3h)
        self.well_m = lag(self.well_m, 5.8 - 0.008 * self.flow_m3h, 1200.0, dt)
        self.level_pct = clamp(self.level_pct + (self.flow_m3h - self.outflow_m3h) / 3600.0
                               * dt / TANK_M3 * 100.0, 0.0, 100.0)
        each = self.flow_m3h / 2.0
        eff = hydraulic_efficiency(PumpParams(best_efficiency=0.76,
                                              best_efficiency_flow_m3h=95.0), each)
        for name, pump in self.pumps.items():
            pump.dp_bar = pump_dp_bar(CURVE, each, 1.0)
            shaft = hydraulic_kw(each, pump.dp_bar) / eff + 0.8
            pump.current_a = motor_current(pump.motor, shaft)
            pump.winding_c = winding_step(pump.motor, pump.winding_c, pump.current_a, ambient, dt)
            bearing_step(pump.bearing, pump.state, speed_frac=1.0,
                         load_frac=shaft / pump.motor.rated_power_kw,
                         wear=sev(severities, "pump.bearing_wear", name), ambient_c=ambient,
                         dt=dt)
        dosing_step(self.dosing_p, self.dosing, water_flow_m3h=self.flow_m3h,
                    demand_mg_l=self.chlorine_demand.step(rng, dt),
                    lost_prime=sev(severities, "dosing_skid.loss_of_prime", "DS-3010"), dt=dt)
        # The day tank empties slowly and is refilled from the delivery tote at 20 %.
        self.hypo_tank_pct -= self.dosing.flow_l_h / 3600.0 * dt / 1000.0 * 100.0
        if self.hypo_tank_pct < 20.0:
            self.hypo_tank_pct = 95.0

    def values(self) -> dict[str, float]:
        """True values keyed by tag key."""
        suction = BAR_PER_METRE * (self.well_m - 1.0)
        out = {
            "W-1001.level": self.well_m,
            "S-2010.differential_pressure": self.strainer_dp_bar * 1000.0,
            "T-4001.inlet_flow": self.flow_m3h,
            "DS-3010.flow": self.dosing.flow_l_h,
            "DS-3010.flow_setpoint": round(self.dosing.flow_setpoint_l_h, 2),
            "DS-3010.stroke": self.dosing.stroke_pct,
            "DS-3010.residual_chlorine": self.dosing.residual_mg_l,
            "DS-3010.tank_level": self.hypo_tank_pct,
            "LV-4001.output": self.valve_out,
            "LV-4001.position": self.valve_pos,
            "T-4001.level": self.level_pct,
            "T-4001.level_setpoint": self.level_setpoint,
            "T-4001.outlet_flow": self.outflow_m3h,
            "T-4001.temperature": self.water_temp.value,
        }
        for name, pump in self.pumps.items():
            out[f"{name}.discharge_pressure"] = suction + pump.dp_bar
            out[f"{name}.bearing_temperature"] = pump.state.temperature_c
            out[f"{name}.vibration"] = pump.state.vibration_mm_s
            out[f"{name}.motor_current"] = pump.current_a
            out[f"{name}.running"] = 1.0
        return out


PLANT = PlantDef(
    name="waterworks",
    title="Nordbach waterworks, raw water station (DCS gateway export)",
    namespace_uri="urn:plantagent:test:waterworks-gateway",
    style="ISA-5.1 loop tags in a flat gateway folder; descriptions as the only words",
    message_style="isa",
    equipment=EQUIPMENT,
    tags=TAGS,
    faults=FAULTS,
    process=WaterworksProcess,
    couplings=COUPLINGS,
)
