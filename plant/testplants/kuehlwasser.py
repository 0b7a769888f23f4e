"""Kühlwasserkreislauf Linie 1 of a chemical site, in a deep ISA-95 hierarchy.

Naming style: Enterprise/Site/Area/ProductionLine/WorkCell/Equipment
(``Muster_Chemie_AG/Werk_Ludwigshafen_Nord/Energieversorgung/Kuehlwasser_Linie_1/
Pumpengruppe/Pumpe_1``), NUMERIC node ids, German browse names from two integrators
(``Pumpe_1/Lagertemperatur`` next to ``Pumpe_2/P2_LT``), descriptions in German, units
and ranges present.

Process: two cooling water pumps (Pumpe_1, Pumpe_2) circulate the closed cooling water
circuit through a backwash filter (Filter_1) and a plate heat exchanger (WT_1), which
gives the heat of the production consumers to river water; its river water valve holds
the supply (Vorlauf) temperature. An expansion vessel (Behaelter_1) with a make-up valve
keeps the circuit filled.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from agent.twin.physics.common import PIParams, Wander, lag
from agent.twin.physics.filter import FilterParams, filter_dp_bar, filter_resistance
from agent.twin.physics.heat_exchanger import (
    WATER_KW_PER_M3H_K,
    HeatExchangerParams,
    HeatExchangerState,
    heat_exchanger_step,
)
from agent.twin.physics.hydraulics import PumpCurve, hydraulic_kw, parallel_flow, pump_dp_bar
from agent.twin.physics.motor import (
    BearingParams,
    BearingState,
    MotorParams,
    bearing_step,
    motor_current,
)
from agent.twin.physics.tank import TankParams, TankState, tank_step
from plant.kit.process import Severities, sev
from plant.kit.spec import EquipmentDef, FaultDef, PlantDef, Symptom, TagDef

LINE = ("Muster_Chemie_AG", "Werk_Ludwigshafen_Nord", "Energieversorgung", "Kuehlwasser_Linie_1")
PUMPS = (*LINE, "Pumpengruppe")
FILTER = (*LINE, "Filtration", "Filter_1")
HX = (*LINE, "Waermeuebertragung", "WT_1")
VESSEL = (*LINE, "Druckhaltung", "Behaelter_1")

_node = iter(range(5001, 6000))


def _tag(key: str, folder: tuple[str, ...], browse: str, desc: str, unit: str | None,
         low: float, high: float, noise: float, **kw: object) -> TagDef:
    return TagDef(key=key, quantity=key.split(".", 1)[1], browse_name=browse, folder=folder,
                  node=next(_node), description=desc, unit=unit, low=low, high=high,
                  noise=noise, **kw)  # type: ignore[arg-type]


P1, P2 = (*PUMPS, "Pumpe_1"), (*PUMPS, "Pumpe_2")
TAGS: tuple[TagDef, ...] = (
    _tag("Pumpe_1.bearing_temperature", P1, "Lagertemperatur",
         "Lagertemperatur Antriebsseite Kühlwasserpumpe 1", "degC", 15.0, 75.0, 0.1),
    _tag("Pumpe_1.vibration", P1, "Schwingung",
         "Schwinggeschwindigkeit Lagerbock Kühlwasserpumpe 1 (effektiv)", "mm_per_s", 0.0,
         4.5, 0.05),
    _tag("Pumpe_1.motor_current", P1, "Motorstrom", "Motorstrom Kühlwasserpumpe 1", "A",
         40.0, 85.0, 0.15),
    _tag("Pumpe_1.discharge_pressure", P1, "Druck_DS", "Druck Druckseite Kühlwasserpumpe 1",
         "bar", 3.5, 6.0, 0.01),
    _tag("Pumpe_1.speed", P1, "Drehzahl", "Drehzahl Kühlwasserpumpe 1", "rpm", 1400.0,
         1500.0, 1.5),
    _tag("Pumpe_1.running", P1, "Betrieb", "Kühlwasserpumpe 1 in Betrieb", None, 0, 1, 0.0,
         show_range=False, alarm=False, data_type="Boolean"),
    _tag("Pumpe_2.bearing_temperature", P2, "P2_LT",
         "Lagertemperatur Antriebsseite Kühlwasserpumpe 2", "degC", 15.0, 75.0, 0.1),
    _tag("Pumpe_2.vibration", P2, "P2_SG", "Schwinggeschwindigkeit Kühlwasserpumpe 2",
         "mm_per_s", 0.0, 4.5, 0.05),
    _tag("Pumpe_2.motor_current", P2, "P2_IM", "Motorstrom Kühlwasserpumpe 2", "A", 40.0,
         85.0, 0.15),
    _tag("Pumpe_2.discharge_pressure", P2, "P2_PD", "Druck Druckseite Kühlwasserpumpe 2",
         "bar", 3.5, 6.0, 0.01),
    _tag("Pumpe_2.running", P2, "P2_BM", "Betriebsmeldung Kühlwasserpumpe 2", None, 0, 1, 0.0,
         show_range=False, alarm=False, data_type="Boolean"),
    _tag("Filter_1.differential_pressure", FILTER, "Differenzdruck",
         "Differenzdruck über Rückspülfilter 1", "mbar", 0.0, 500.0, 2.0),
    _tag("Filter_1.flow", FILTER, "Durchfluss", "Kühlwasser-Durchfluss Kreislauf (nach Filter)",
         "m3_per_h", 380.0, 560.0, 1.2),
    _tag("WT_1.supply_temperature", HX, "Vorlauftemperatur",
         "Kühlwasser-Vorlauftemperatur nach WT 1 (geregelt)", "degC", 24.0, 32.0, 0.05),
    _tag("WT_1.return_temperature", HX, "Ruecklauftemperatur",
         "Kühlwasser-Rücklauftemperatur vor WT 1", "degC", 28.0, 42.0, 0.05),
    _tag("WT_1.supply_setpoint", HX, "Sollwert_Vorlauf", "Sollwert Vorlauftemperatur",
         "degC", 24.0, 32.0, 0.0, alarm=False, exact=True),
    _tag("WT_1.river_inlet_temperature", HX, "Flusswasser_Ein",
         "Flusswasser-Eintrittstemperatur WT 1", "degC", 4.0, 24.0, 0.05),
    _tag("WT_1.river_outlet_temperature", HX, "Flusswasser_Aus",
         "Flusswasser-Austrittstemperatur WT 1", "degC", 8.0, 34.0, 0.05),
    _tag("WT_1.river_flow", HX, "Flusswasser_Durchfluss", "Flusswasser-Durchfluss WT 1",
         "m3_per_h", 150.0, 420.0, 1.0),
    _tag("WT_1.valve_position", HX, "Ventilstellung",
         "Stellung Flusswasser-Regelventil WT 1", "percent", 15.0, 90.0, 0.2),
    _tag("WT_1.heat_duty", HX, "Waermeleistung", "Übertragene Wärmeleistung WT 1", "kW",
         2500.0, 5200.0, 8.0),
    _tag("Behaelter_1.level", VESSEL, "Fuellstand", "Füllstand Ausgleichsbehälter", "percent",
         35.0, 85.0, 0.1),
    _tag("Behaelter_1.makeup_valve", VESSEL, "Nachspeiseventil",
         "Stellung Nachspeiseventil Ausgleichsbehälter", "percent", 0.0, 100.0, 0.2,
         alarm=False),
)

EQUIPMENT: tuple[EquipmentDef, ...] = (
    EquipmentDef("Pumpe_1", "pump", ("Pumpe 1", "Kühlwasserpumpe 1", "cooling water pump 1"),
                 "Kühlwasserpumpe 1, 30 kW", "Pumpe_1.discharge_pressure", P1),
    EquipmentDef("Pumpe_2", "pump", ("Pumpe 2", "Kühlwasserpumpe 2", "cooling water pump 2"),
                 "Kühlwasserpumpe 2, 30 kW", "Pumpe_2.discharge_pressure", P2),
    EquipmentDef("Filter_1", "filter", ("Filter 1", "Rückspülfilter", "backwash filter"),
                 "Rückspülfilter im Kühlwasserkreislauf", "Filter_1.differential_pressure",
                 FILTER),
    EquipmentDef("WT_1", "heat_exchanger", ("WT 1", "Wärmetauscher", "Plattenwärmetauscher",
                                            "heat exchanger"),
                 "Plattenwärmetauscher Kühlwasser/Flusswasser", "WT_1.supply_temperature", HX),
    EquipmentDef("Behaelter_1", "tank", ("Behälter 1", "Ausgleichsbehälter",
                                         "expansion vessel"),
                 "Ausgleichsbehälter mit Nachspeisung", "Behaelter_1.level", VESSEL),
)

FAULTS: tuple[FaultDef, ...] = (
    FaultDef("pump.bearing_wear", ("Pumpe_1", "Pumpe_2"),
             "Wälzlagerschaden: Schwingung und Lagertemperatur steigen, dann immer schneller.",
             2400.0, "accelerating",
             (Symptom("Pumpe_1.vibration", "up"), Symptom("Pumpe_1.bearing_temperature", "up"))),
    FaultDef("filter.clogging", ("Filter_1",),
             "Filter verblockt (Rückspülung gestört): Differenzdruck steigt, Durchfluss "
             "sinkt.", 1800.0, "accelerating",
             (Symptom("Filter_1.differential_pressure", "up"), Symptom("Filter_1.flow", "down"))),
    FaultDef("heat_exchanger.fouling", ("WT_1",),
             "Belag auf den Platten: der Wärmeübergang sinkt, das Flusswasserventil öffnet "
             "bis zum Anschlag, dann steigt die Vorlauftemperatur.", 2400.0, "ramp",
             (Symptom("WT_1.valve_position", "up"), Symptom("WT_1.river_flow", "up"),
              Symptom("WT_1.supply_temperature", "up"))),
    FaultDef("instrument.drift", (), "Messumformer driftet: der Messwert bekommt einen "
             "langsam wachsenden Versatz, der Prozess bleibt gleich.", 1200.0, "ramp",
             sensor=True),
    FaultDef("instrument.stuck", (), "Messumformer eingefroren: der Messwert bleibt stehen, "
             "ohne Rauschen, der Prozess läuft weiter.", 0.0, "step", sensor=True),
)

COUPLINGS = (("Pumpe_1", "Filter_1"), ("Pumpe_2", "Filter_1"), ("Filter_1", "Pumpe_1"),
             ("Filter_1", "Pumpe_2"), ("Filter_1", "WT_1"), ("Pumpe_1", "WT_1"),
             ("Pumpe_2", "WT_1"), ("Behaelter_1", "Pumpe_1"), ("Behaelter_1", "Pumpe_2"))

CURVE = PumpCurve(shutoff_dp_bar=5.2, curve_k=2.0e-5)
CIRCUIT_RESISTANCE = 1.66e-5
RATED_RPM = 1480.0


@dataclass
class _Pump:
    bearing: BearingParams
    state: BearingState = field(default_factory=lambda: BearingState(48.0, 1.8))
    current_a: float = 50.0
    dp_bar: float = 3.5


@dataclass
class KuehlwasserProcess:
    """The coupled physics of the cooling water circuit."""

    motor: MotorParams = field(default_factory=lambda: MotorParams(
        45.0, 80.0, 25.0, rated_speed_rpm=RATED_RPM))
    pumps: dict[str, _Pump] = field(default_factory=lambda: {
        "Pumpe_1": _Pump(BearingParams(speed_rise_k=16.0, load_rise_k=14.0)),
        "Pumpe_2": _Pump(BearingParams(speed_rise_k=11.0, load_rise_k=10.0,
                                       vibration_base_mm_s=1.7)),
    })
    filter_p: FilterParams = field(default_factory=lambda: FilterParams(1.0e-6, 5.0))
    hx_p: HeatExchangerParams = field(default_factory=lambda: HeatExchangerParams(
        ua_kw_k=520.0, coolant_max_m3h=480.0, outlet_setpoint_c=28.0,
        temperature_control=PIParams(kp=-3.0, ti_s=240.0, bias=55.0),
        temp_tau_s=120.0, fouled_ua_fraction=0.3))
    hx: HeatExchangerState = field(default_factory=lambda: HeatExchangerState(
        35.0, 28.0, 12.0, 24.0, 300.0, 55.0, 3600.0))
    vessel_p: TankParams = field(default_factory=lambda: TankParams(
        area_m2=2.0, height_m=3.0, elevation_m=0.0, inlet_max_m3h=4.0,
        level_setpoint_pct=60.0, level_control=PIParams(kp=4.0, ti_s=900.0, bias=15.0)))
    vessel: TankState = field(default_factory=lambda: TankState(60.0, 25.0, 15.0, 0.6))
    flow_m3h: float = 470.0
    filter_dp_bar: float = 0.22
    load: Wander = field(default_factory=lambda: Wander(3900.0, 250.0, 2400.0, 3900.0))
    river: Wander = field(default_factory=lambda: Wander(13.0, 0.4, 7200.0, 13.0))
    ambient: Wander = field(default_factory=lambda: Wander(24.0, 1.0, 7200.0, 24.0))
    leak: Wander = field(default_factory=lambda: Wander(0.6, 0.15, 1800.0, 0.6))

    def step(self, severities: Severities, rng: random.Random, dt: float) -> None:
        """One step of the circuit."""
        ambient = self.ambient.step(rng, dt)
        r_filter = filter_resistance(self.filter_p, sev(severities, "filter.clogging",
                                                        "Filter_1"))
        flow = parallel_flow(CURVE, pumps=2, speed_frac=1.0, static_dp_bar=0.0,
                             resistance=CIRCUIT_RESISTANCE + r_filter)
        self.flow_m3h = lag(self.flow_m3h, flow, 3.0, dt)
        self.filter_dp_bar = filter_dp_bar(r_filter, self.flow_m3h)
        c_hot = self.flow_m3h * WATER_KW_PER_M3H_K
        ret = self.hx.hot_out_c + max(self.load.step(rng, dt), 500.0) / c_hot
        heat_exchanger_step(self.hx_p, self.hx, product_flow_m3h=self.flow_m3h,
                            hot_in_c=lag(self.hx.hot_in_c, ret, 300.0, dt),
                            coolant_in_c=self.river.step(rng, dt),
                            fouling=sev(severities, "heat_exchanger.fouling", "WT_1"),
                            supply_loss=0.0, dt=dt)
        tank_step(self.vessel_p, self.vessel, outflow_m3h=max(self.leak.step(rng, dt), 0.0),
                  feed_temp_c=self.hx.hot_out_c, valve_stuck_pct=None, dt=dt)
        each = self.flow_m3h / 2.0
        for name, pump in self.pumps.items():
            pump.dp_bar = pump_dp_bar(CURVE, each, 1.0)
            shaft = hydraulic_kw(each, pump.dp_bar) / 0.8 + 1.5
            pump.current_a = motor_current(self.motor, shaft)
            bearing_step(pump.bearing, pump.state, speed_frac=1.0,
                         load_frac=shaft / self.motor.rated_power_kw,
                         wear=sev(severities, "pump.bearing_wear", name), ambient_c=ambient,
                         dt=dt)

    def values(self) -> dict[str, float]:
        """True values keyed by tag key."""
        suction = 0.8 + 0.0981 * 3.0 * self.vessel.level_pct / 100.0
        out = {
            "Pumpe_1.speed": RATED_RPM - 0.01 * self.pumps["Pumpe_1"].current_a,
            "Filter_1.differential_pressure": self.filter_dp_bar * 1000.0,
            "Filter_1.flow": self.flow_m3h,
            "WT_1.supply_temperature": self.hx.hot_out_c,
            "WT_1.return_temperature": self.hx.hot_in_c,
            "WT_1.supply_setpoint": self.hx_p.outlet_setpoint_c,
            "WT_1.river_inlet_temperature": self.hx.cold_in_c,
            "WT_1.river_outlet_temperature": self.hx.cold_out_c,
            "WT_1.river_flow": self.hx.coolant_flow_m3h,
            "WT_1.valve_position": self.hx.valve_pct,
            "WT_1.heat_duty": self.hx.duty_kw,
            "Behaelter_1.level": self.vessel.level_pct,
            "Behaelter_1.makeup_valve": self.vessel.valve_pct,
        }
        for name, pump in self.pumps.items():
            out[f"{name}.bearing_temperature"] = pump.state.temperature_c
            out[f"{name}.vibration"] = pump.state.vibration_mm_s
            out[f"{name}.motor_current"] = pump.current_a
            out[f"{name}.discharge_pressure"] = suction + pump.dp_bar
            out[f"{name}.running"] = 1.0
        return out


PLANT = PlantDef(
    name="kuehlwasser",
    title="Muster Chemie AG, Werk Ludwigshafen Nord: Kühlwasserkreislauf Linie 1 (ISA-95)",
    namespace_uri="urn:muster-chemie:ludwigshafen-nord:energie",
    style="deep ISA-95 hierarchy, numeric node ids, German names and descriptions",
    message_style="de",
    equipment=EQUIPMENT,
    tags=TAGS,
    faults=FAULTS,
    process=KuehlwasserProcess,
    couplings=COUPLINGS,
    folder_descriptions={
        LINE[:1]: "Muster Chemie AG",
        LINE[:2]: "Werk Ludwigshafen Nord",
        LINE[:3]: "Energieversorgung",
        LINE: "Kühlwasserkreislauf Linie 1",
        PUMPS: "Kühlwasser-Pumpengruppe",
        P1: "Kühlwasserpumpe 1",
        P2: "Kühlwasserpumpe 2",
        FILTER: "Rückspülfilter 1",
        HX: "Plattenwärmetauscher WT 1 (Kühlwasser/Flusswasser)",
        VESSEL: "Ausgleichsbehälter mit Nachspeisung",
    },
    numeric_base=1001,
    language="de",
)
