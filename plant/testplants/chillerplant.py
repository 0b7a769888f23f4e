"""Harbour Office Campus central chiller plant, as a BMS (Niagara-style) exports it.

Naming style: one BACnet device per equipment under ``Drivers/BacnetNetwork``, each with
a ``points`` folder of BMS point abbreviations (``CHWST``, ``ECWT``, ``COND_P``,
``FAN_SPD``, ``SA_FLOW``, ``FLT_DP``); every equipment's variables therefore sit in an
object called ``points`` and the equipment's name is its parent's; string node ids like
``slot:/Drivers/BacnetNetwork/CH_1/points/CHWST``; English descriptions; units on every
analog point, ranges on most.

Process: a water-cooled chiller (CH-1) cools the chilled water loop, circulated by the
chilled water pump (CHWP-1) to the building and an air handling unit (AHU-1); it rejects
heat to the condenser water loop, circulated by the condenser water pump (CWP-1) through
an induced-draft cooling tower (CT-1) whose VFD fan holds the tower leaving water
temperature.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from agent.twin.physics.chiller import ChillerParams, ChillerState, chiller_step
from agent.twin.physics.common import Wander, lag
from agent.twin.physics.cooling_tower import (
    CoolingTowerParams,
    CoolingTowerState,
    cooling_tower_step,
)
from agent.twin.physics.fan import FanParams, FanState, fan_step
from agent.twin.physics.heat_exchanger import WATER_KW_PER_M3H_K
from agent.twin.physics.hydraulics import PumpCurve, hydraulic_kw, parallel_flow, pump_dp_bar
from agent.twin.physics.motor import (
    BearingParams,
    BearingState,
    MotorParams,
    bearing_step,
    motor_current,
)
from plant.kit.process import Severities, sev
from plant.kit.spec import EquipmentDef, FaultDef, PlantDef, Symptom, TagDef

NET = ("Drivers", "BacnetNetwork")


def _dev(device: str) -> tuple[str, ...]:
    return (*NET, device, "points")


CH, CT, CWP, CHWP, AHU = (_dev(d) for d in ("CH_1", "CT_1", "CWP_1", "CHWP_1", "AHU_1"))


def _tag(key: str, folder: tuple[str, ...], point: str, desc: str, unit: str | None,
         low: float, high: float, noise: float, **kw: object) -> TagDef:
    return TagDef(key=key, quantity=key.split(".", 1)[1], browse_name=point, folder=folder,
                  node="slot:/" + "/".join([*folder, point]), description=desc, unit=unit,
                  low=low, high=high, noise=noise, **kw)  # type: ignore[arg-type]


TAGS: tuple[TagDef, ...] = (
    _tag("CH-1.chilled_water_supply_temperature", CH, "CHWST",
         "Chilled water supply temperature", "degC", 5.0, 7.5, 0.03),
    _tag("CH-1.chilled_water_return_temperature", CH, "CHWRT",
         "Chilled water return temperature", "degC", 9.0, 15.0, 0.03),
    _tag("CH-1.chilled_water_supply_setpoint", CH, "CHWST_SP",
         "Chilled water supply temperature setpoint", "degC", 5.0, 9.0, 0.0, alarm=False,
         exact=True),
    _tag("CH-1.condenser_water_entering_temperature", CH, "ECWT",
         "Condenser entering water temperature", "degC", 20.0, 29.0, 0.03),
    _tag("CH-1.condenser_water_leaving_temperature", CH, "LCWT",
         "Condenser leaving water temperature", "degC", 24.0, 35.0, 0.03),
    _tag("CH-1.evaporator_pressure", CH, "EVAP_P", "Evaporator refrigerant pressure",
         "kPa", 300.0, 420.0, 1.0),
    _tag("CH-1.condenser_pressure", CH, "COND_P", "Condenser refrigerant pressure", "kPa",
         650.0, 950.0, 1.5),
    _tag("CH-1.suction_superheat", CH, "SUCT_SH", "Compressor suction superheat", "K", 2.0,
         10.0, 0.05),
    _tag("CH-1.capacity", CH, "CAP", "Chiller capacity (percent of full load)", "percent",
         0.0, 100.0, 0.2, alarm=False),
    _tag("CH-1.power", CH, "KW", "Chiller electrical power", "kW", 30.0, 150.0, 0.4),
    _tag("CH-1.current", CH, "AMPS", "Chiller compressor motor current", "A", 50.0, 260.0,
         0.8, show_range=False),
    _tag("CT-1.fan_speed", CT, "FAN_SPD", "Cooling tower fan speed", "percent", 15.0, 95.0,
         0.2),
    _tag("CT-1.fan_power", CT, "FAN_KW", "Cooling tower fan power", "kW", 0.0, 18.5, 0.03,
         alarm=False),
    _tag("CT-1.leaving_water_temperature", CT, "LWT", "Cooling tower leaving water "
         "temperature", "degC", 20.0, 29.0, 0.03),
    _tag("CT-1.entering_water_temperature", CT, "EWT", "Cooling tower entering water "
         "temperature", "degC", 24.0, 35.0, 0.03),
    _tag("CT-1.outdoor_wet_bulb", CT, "OAWB", "Outdoor air wet bulb temperature", "degC",
         -5.0, 30.0, 0.05, show_range=False, alarm=False),
    _tag("CT-1.vibration", CT, "FAN_VIB", "Cooling tower fan gearbox vibration", "mm_per_s",
         0.0, 6.0, 0.05),
    _tag("CWP-1.running", CWP, "STATUS", "Condenser water pump status", None, 0, 1, 0.0,
         show_range=False, alarm=False, data_type="Boolean"),
    _tag("CWP-1.flow", CWP, "FLOW", "Condenser water flow", "m3_per_h", 140.0, 200.0, 0.6),
    _tag("CWP-1.differential_pressure", CWP, "DP", "Condenser water pump differential "
         "pressure", "kPa", 150.0, 260.0, 0.8),
    _tag("CWP-1.motor_current", CWP, "AMPS", "Condenser water pump motor current", "A", 12.0,
         30.0, 0.08),
    _tag("CWP-1.bearing_temperature", CWP, "BRG_T", "Condenser water pump bearing "
         "temperature", "degC", 15.0, 70.0, 0.1),
    _tag("CWP-1.vibration", CWP, "VIB", "Condenser water pump vibration", "mm_per_s", 0.0,
         4.5, 0.05),
    _tag("CHWP-1.running", CHWP, "STATUS", "Chilled water pump status", None, 0, 1, 0.0,
         show_range=False, alarm=False, data_type="Boolean"),
    _tag("CHWP-1.flow", CHWP, "FLOW", "Chilled water flow", "m3_per_h", 95.0, 140.0, 0.5),
    _tag("CHWP-1.differential_pressure", CHWP, "DP", "Chilled water pump differential "
         "pressure", "kPa", 150.0, 260.0, 0.8),
    _tag("CHWP-1.motor_current", CHWP, "AMPS", "Chilled water pump motor current", "A",
         10.0, 30.0, 0.08),
    _tag("CHWP-1.drive_frequency", CHWP, "VFD_HZ", "Chilled water pump drive frequency",
         "Hz", 30.0, 50.0, 0.0, alarm=False, exact=True),
    _tag("AHU-1.running", AHU, "SF_STATUS", "Supply fan status", None, 0, 1, 0.0,
         show_range=False, alarm=False, data_type="Boolean"),
    _tag("AHU-1.fan_speed", AHU, "SF_SPD", "Supply fan speed command", "percent", 0.0,
         100.0, 0.0, alarm=False, exact=True),
    _tag("AHU-1.motor_current", AHU, "SF_AMPS", "Supply fan motor current", "A", 6.5, 24.0,
         0.06),
    _tag("AHU-1.airflow", AHU, "SA_FLOW", "Supply air flow", "m3_per_h_air", 13500.0,
         20000.0, 40.0),
    _tag("AHU-1.filter_differential_pressure", AHU, "FLT_DP", "Filter differential pressure",
         "Pa", 40.0, 250.0, 0.8),
    _tag("AHU-1.supply_air_temperature", AHU, "SAT", "Supply air temperature", "degC", 11.0,
         16.0, 0.04),
)

EQUIPMENT: tuple[EquipmentDef, ...] = (
    EquipmentDef("CH-1", "chiller", ("CH-1", "chiller 1", "chiller"),
                 "Water-cooled screw chiller, 900 kW, R-134a",
                 "CH-1.chilled_water_supply_temperature", CH),
    EquipmentDef("CT-1", "cooling_tower", ("CT-1", "cooling tower 1", "cooling tower"),
                 "Induced-draft cooling tower with VFD fan", "CT-1.leaving_water_temperature",
                 CT),
    EquipmentDef("CWP-1", "pump", ("CWP-1", "condenser water pump 1",
                                   "condenser water pump"),
                 "Condenser water pump, 15 kW", "CWP-1.flow", CWP),
    EquipmentDef("CHWP-1", "pump", ("CHWP-1", "chilled water pump 1", "chilled water pump"),
                 "Chilled water pump on a VFD, 15 kW", "CHWP-1.flow", CHWP),
    EquipmentDef("AHU-1", "fan", ("AHU-1", "air handling unit 1", "AHU 1", "supply fan"),
                 "Air handling unit 1 supply fan, belt driven, with bag filter",
                 "AHU-1.airflow", AHU),
)

FAULTS: tuple[FaultDef, ...] = (
    FaultDef("chiller.low_refrigerant", ("CH-1",),
             "Refrigerant leak: evaporator pressure falls, suction superheat rises, the "
             "chiller runs out of capacity and the chilled water supply warms.", 1500.0,
             "ramp",
             (Symptom("CH-1.evaporator_pressure", "down"), Symptom("CH-1.suction_superheat", "up"),
              Symptom("CH-1.chilled_water_supply_temperature", "up"))),
    FaultDef("chiller.condenser_fouling", ("CH-1",),
             "Condenser tubes fouling: condensing pressure and the approach to the leaving "
             "condenser water rise, so does the power for the same load.", 1800.0, "ramp",
             (Symptom("CH-1.condenser_pressure", "up"), Symptom("CH-1.power", "up"))),
    FaultDef("cooling_tower.fan_degradation", ("CT-1",),
             "Tower fan moving less air (slipping belt, eroded blades): the fan speeds up to "
             "its maximum while drawing less power for its speed; then the leaving water "
             "warms.", 900.0, "ramp",
             (Symptom("CT-1.fan_speed", "up"), Symptom("CT-1.leaving_water_temperature", "up"))),
    FaultDef("fan.belt_slip", ("AHU-1",),
             "Supply fan belt slipping: airflow and motor current fall at the same speed "
             "command.", 600.0, "ramp",
             (Symptom("AHU-1.airflow", "down"), Symptom("AHU-1.motor_current", "down"))),
    FaultDef("pump.bearing_wear", ("CWP-1", "CHWP-1"),
             "Rolling bearing damage: vibration and bearing temperature creep up, then "
             "accelerate.", 2400.0, "accelerating",
             (Symptom("CWP-1.vibration", "up"), Symptom("CWP-1.bearing_temperature", "up"))),
    FaultDef("instrument.drift", (), "A sensor drifting: its reading gains a slowly growing "
             "offset while the process is unchanged.", 1200.0, "ramp", sensor=True),
    FaultDef("instrument.stuck", (), "A sensor frozen at its last reading, without noise, "
             "while the process moves on.", 0.0, "step", sensor=True),
)

COUPLINGS = (("CHWP-1", "CH-1"), ("CH-1", "AHU-1"), ("CH-1", "CT-1"), ("CT-1", "CH-1"),
             ("CWP-1", "CH-1"), ("CWP-1", "CT-1"))

CW_CURVE = PumpCurve(shutoff_dp_bar=3.2, curve_k=4.0e-5)
CHW_CURVE = PumpCurve(shutoff_dp_bar=3.5, curve_k=6.0e-5)


@dataclass
class _Pump:
    curve: PumpCurve
    resistance: float
    static_bar: float
    speed_frac: float
    bearing: BearingParams = field(default_factory=BearingParams)
    motor: MotorParams = field(default_factory=lambda: MotorParams(15.0, 28.0, 9.0))
    state: BearingState = field(default_factory=lambda: BearingState(45.0, 1.6))
    flow_m3h: float = 150.0
    dp_bar: float = 2.0
    current_a: float = 22.0

    def step(self, wear: float, ambient: float, dt: float) -> None:
        flow = parallel_flow(self.curve, pumps=1, speed_frac=self.speed_frac,
                             static_dp_bar=self.static_bar, resistance=self.resistance)
        self.flow_m3h = lag(self.flow_m3h, flow, 3.0, dt)
        self.dp_bar = pump_dp_bar(self.curve, self.flow_m3h, self.speed_frac)
        shaft = hydraulic_kw(self.flow_m3h, self.dp_bar) / 0.74 + 0.5
        self.current_a = motor_current(self.motor, shaft, self.speed_frac)
        bearing_step(self.bearing, self.state, speed_frac=self.speed_frac,
                     load_frac=shaft / self.motor.rated_power_kw, wear=wear, ambient_c=ambient,
                     dt=dt)


@dataclass
class ChillerPlantProcess:
    """The coupled physics of the central plant."""

    chiller_p: ChillerParams = field(default_factory=lambda: ChillerParams(
        low_charge_ua_fraction=0.15, low_charge_capacity_fraction=0.45))
    chiller: ChillerState = field(default_factory=ChillerState)
    tower_p: CoolingTowerParams = field(default_factory=lambda: CoolingTowerParams(
        ntu_design=0.9, cold_setpoint_c=26.0, degraded_air_fraction=0.7))
    tower: CoolingTowerState = field(default_factory=CoolingTowerState)
    cwp: _Pump = field(default_factory=lambda: _Pump(CW_CURVE, 6.0e-5, 0.3, 1.0))
    chwp: _Pump = field(default_factory=lambda: _Pump(
        CHW_CURVE, 1.4e-4, 0.0, 0.9, BearingParams(speed_rise_k=10.0, load_rise_k=12.0)))
    fan_p: FanParams = field(default_factory=lambda: FanParams(
        motor=MotorParams(11.0, 21.0, 6.5, rated_speed_rpm=1460.0)))
    fan: FanState = field(default_factory=FanState)
    fan_speed_pct: float = 85.0
    sat_c: float = 13.0
    chwr_c: float = 11.3
    load: Wander = field(default_factory=lambda: Wander(560.0, 45.0, 1800.0, 560.0))
    wet_bulb: Wander = field(default_factory=lambda: Wander(21.0, 0.8, 7200.0, 21.0))
    ambient: Wander = field(default_factory=lambda: Wander(27.0, 1.0, 7200.0, 27.0))

    def step(self, severities: Severities, rng: random.Random, dt: float) -> None:
        """One step of the plant."""
        ambient = self.ambient.step(rng, dt)
        self.cwp.step(sev(severities, "pump.bearing_wear", "CWP-1"), ambient, dt)
        self.chwp.step(sev(severities, "pump.bearing_wear", "CHWP-1"), ambient, dt)
        chw = self.chwp.flow_m3h
        # Coils take less heat from warmer chilled water: the load eases as it warms.
        ease = min(max((18.0 - self.chiller.chws_c) / 11.5, 0.0), 1.5)
        load = max(self.load.step(rng, dt), 100.0) * ease
        self.chwr_c = lag(self.chwr_c, self.chiller.chws_c + load / (chw * WATER_KW_PER_M3H_K),
                          120.0, dt)
        chiller_step(self.chiller_p, self.chiller, chw_flow_m3h=chw, chwr_c=self.chwr_c,
                     cw_flow_m3h=self.cwp.flow_m3h, cw_entering_c=self.tower.cold_water_c,
                     low_charge=sev(severities, "chiller.low_refrigerant", "CH-1"),
                     cond_fouling=sev(severities, "chiller.condenser_fouling", "CH-1"), dt=dt)
        cooling_tower_step(self.tower_p, self.tower, hot_water_c=self.chiller.cw_leaving_c,
                           water_m3h=self.cwp.flow_m3h, wet_bulb_c=self.wet_bulb.step(rng, dt),
                           fan_degradation=sev(severities, "cooling_tower.fan_degradation",
                                               "CT-1"),
                           fill_fouling=0.0, ambient_c=ambient, dt=dt)
        fan_step(self.fan_p, self.fan, speed_frac=self.fan_speed_pct / 100.0, clogging=0.0,
                 belt_slip=sev(severities, "fan.belt_slip", "AHU-1"), wear=0.0,
                 ambient_c=ambient, dt=dt)
        # Less air over the same coil leaves it colder.
        air = self.fan.airflow_m3h / 16400.0
        self.sat_c = lag(self.sat_c, self.chiller.chws_c + 4.0 + 2.5 * air, 90.0, dt)

    def values(self) -> dict[str, float]:
        """True values keyed by tag key."""
        ch, ct = self.chiller, self.tower
        return {
            "CH-1.chilled_water_supply_temperature": ch.chws_c,
            "CH-1.chilled_water_return_temperature": self.chwr_c,
            "CH-1.chilled_water_supply_setpoint": self.chiller_p.chws_setpoint_c,
            "CH-1.condenser_water_entering_temperature": ct.cold_water_c,
            "CH-1.condenser_water_leaving_temperature": ch.cw_leaving_c,
            "CH-1.evaporator_pressure": ch.evap_bar_abs * 100.0,
            "CH-1.condenser_pressure": ch.cond_bar_abs * 100.0,
            "CH-1.suction_superheat": ch.superheat_k,
            "CH-1.capacity": ch.capacity_pct,
            "CH-1.power": ch.power_kw,
            "CH-1.current": ch.current_a,
            "CT-1.fan_speed": ct.fan_speed_pct,
            "CT-1.fan_power": ct.fan_kw,
            "CT-1.leaving_water_temperature": ct.cold_water_c,
            "CT-1.entering_water_temperature": ct.hot_water_c,
            "CT-1.outdoor_wet_bulb": self.wet_bulb.value,
            "CT-1.vibration": ct.bearing.vibration_mm_s,
            "CWP-1.running": 1.0,
            "CWP-1.flow": self.cwp.flow_m3h,
            "CWP-1.differential_pressure": self.cwp.dp_bar * 100.0,
            "CWP-1.motor_current": self.cwp.current_a,
            "CWP-1.bearing_temperature": self.cwp.state.temperature_c,
            "CWP-1.vibration": self.cwp.state.vibration_mm_s,
            "CHWP-1.running": 1.0,
            "CHWP-1.flow": self.chwp.flow_m3h,
            "CHWP-1.differential_pressure": self.chwp.dp_bar * 100.0,
            "CHWP-1.motor_current": self.chwp.current_a,
            "CHWP-1.drive_frequency": 50.0 * self.chwp.speed_frac,
            "AHU-1.running": 1.0,
            "AHU-1.fan_speed": self.fan_speed_pct,
            "AHU-1.motor_current": self.fan.current_a,
            "AHU-1.airflow": self.fan.airflow_m3h,
            "AHU-1.filter_differential_pressure": self.fan.filter_dp_pa,
            "AHU-1.supply_air_temperature": self.sat_c,
        }


PLANT = PlantDef(
    name="chillerplant",
    title="Harbour Office Campus central chiller plant (BMS export)",
    namespace_uri="urn:harbour-campus:bms:central-plant",
    style="BMS point abbreviations per BACnet device in 'points' folders, string slot ids",
    message_style="bms",
    equipment=EQUIPMENT,
    tags=TAGS,
    faults=FAULTS,
    process=ChillerPlantProcess,
    couplings=COUPLINGS,
    folder_descriptions={
        (*NET, "CH_1"): "Chiller 1", (*NET, "CT_1"): "Cooling Tower 1",
        (*NET, "CWP_1"): "Condenser Water Pump 1", (*NET, "CHWP_1"): "Chilled Water Pump 1",
        (*NET, "AHU_1"): "Air Handling Unit 1",
    },
)
