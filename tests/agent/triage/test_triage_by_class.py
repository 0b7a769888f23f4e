"""Diagnosis by equipment class and tag role: one signature found on two plants that name
everything differently, and couplings from the hierarchy, ISA loop numbers and the site
file. (NE 107 Failure and Function check values are left out of the evidence by
agent/triage/gather.py: tests/tools/opcua/test_ne107.py.)"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from agent.triage.diagnose import PlantView, diagnose
from agent.triage.evidence import EvidenceBook
from agent.triage.features import Series, analyse
from agent.triage.library import load_library
from agent.twin.assets.file import AssetsFile
from agent.twin.coupling.relations import from_hierarchy, from_loops, infer_coupling
from agent.twin.semantics.infer import infer
from tools.opcua.catalog import Catalog
from tools.opcua.models import EquipmentInfo, TagInfo

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _catalog(objects: dict[tuple[str, ...], list[tuple[str, str, str, float, float]]]
             ) -> Catalog:  # fmt: skip
    """Objects by browse path, each with (browse name, description, unit, low, high)."""
    cat = Catalog()
    for path, tags in objects.items():
        eq = path[-1]
        infos = [TagInfo(name=f"{eq}.{b}", equipment=eq, browse_path=[*path, b],
                         node_id=f"ns=2;s={eq}.{b}", namespace_uri="urn:test", unit=u,
                         eu_low=lo, eu_high=hi, description=d, data_type="Double")
                 for b, d, u, lo, hi in tags]
        cat.add(EquipmentInfo(name=eq, browse_path=list(path), node_id=f"ns=2;s={eq}"), infos)
    return cat


def _series(base: float, noise: float, rise: float, seed: int) -> Series:
    rng = random.Random(seed)
    out = []
    for i in range(120):
        ramp = rise * max(0.0, (i - 60) / 60)
        out.append((T0 + timedelta(seconds=30 * i), base + ramp + rng.gauss(0, noise)))
    return out


def _diagnose(cat: Catalog, rises: dict[str, float]) -> tuple[str, str]:
    sem = infer(cat)
    feats = {}
    for i, (name, info) in enumerate(cat.tags.items()):
        assert info.eu_low is not None and info.eu_high is not None
        span = info.eu_high - info.eu_low
        base = info.eu_low + span / 2
        rise = next((r for k, r in rises.items() if name.endswith(k)), 0.0) * span
        f = analyse(name, _series(base, span * 0.005, rise, i), info.eu_low, info.eu_high, None)
        assert f is not None
        feats[name] = f
    view = PlantView(feats, {e: list(s.tags) for e, s in sem.equipment.items()},
                     infer_coupling(sem, cat), {t: cat.tags[t].unit for t in cat.tags},
                     sem.tags, {e: s.eq_class for e, s in sem.equipment.items()},
                     load_library(None))
    top = diagnose(view, EvidenceBook())[0]
    return top.cause, top.equipment


def test_one_signature_matches_on_two_differently_named_plants() -> None:
    german = _catalog({
        ("Werk", "Kuehlkreis", "Speisepumpe_7"): [
            ("Schwingung", "Lagerschwingung", "mm/s", 0.0, 8.0),
            ("Lagertemperatur", "Lagertemperatur Antriebsseite", "°C", 20.0, 90.0),
            ("Motorstrom", "Motorstrom", "A", 10.0, 60.0),
            ("Durchfluss", "Foerderstrom", "m³/h", 0.0, 200.0)],
    })
    english = _catalog({
        ("Site", "Utilities", "FW-PMP-12"): [
            ("BRG_VIB", "feedwater pump bearing vibration", "mm/s", 0.0, 8.0),
            ("BRG_TMP", "feedwater pump bearing temperature", "degC", 20.0, 90.0),
            ("MTR_AMPS", "feedwater pump motor current", "A", 10.0, 60.0),
            ("FLOW", "feedwater flow", "m3/h", 0.0, 200.0)],
    })
    assert _diagnose(german, {".Schwingung": 0.3, ".Lagertemperatur": 0.2}) == (
        "pump.bearing_wear", "Speisepumpe_7")
    assert _diagnose(english, {".BRG_VIB": 0.3, ".BRG_TMP": 0.2}) == (
        "pump.bearing_wear", "FW-PMP-12")


def test_a_clogging_strainer_is_found_by_its_class_on_any_names() -> None:
    cat = _catalog({
        ("Plant", "Line_A", "Pumps", "PU_1"): [
            ("PT_1", "pump discharge pressure", "bar", 0.0, 10.0),
            ("FT_1", "pump flow", "m3/h", 0.0, 100.0),
            ("VT_1", "pump vibration", "mm/s", 0.0, 8.0)],
        ("Plant", "Line_A", "Filtration", "STR_9"): [
            ("DP", "strainer differential pressure", "mbar", 0.0, 500.0),
            ("FLOW", "strainer flow", "m3/h", 0.0, 100.0)],
    })
    cause, equipment = _diagnose(cat, {".DP": 0.4, "STR_9.FLOW": -0.2, ".FT_1": -0.2})
    assert (cause, equipment) == ("filter.clogging", "STR_9")


def test_couplings_from_the_hierarchy_join_a_line_and_climb_past_a_lone_folder() -> None:
    cat = _catalog({
        ("Plant", "Line_A", "Pumps", "PU_1"): [("PT", "pump pressure", "bar", 0.0, 9.0)],
        ("Plant", "Line_A", "Pumps", "PU_2"): [("PT", "pump pressure", "bar", 0.0, 9.0)],
        ("Plant", "Line_A", "Filtration", "STR_9"): [("DP", "strainer dp", "mbar", 0, 400)],
        ("Plant", "Line_B", "Tanks", "TK_1"): [("LT", "tank level", "%", 0.0, 100.0)],
        ("Plant", "Line_B", "Tanks", "TK_2"): [("LT", "tank level", "%", 0.0, 100.0)],
    })
    c = from_hierarchy(infer(cat), cat)
    assert set(c.neighbours("STR_9")) == {"PU_1", "PU_2"}
    assert "STR_9" in c.neighbours("PU_1") and "PU_2" in c.neighbours("PU_1")
    assert c.neighbours("TK_1") == ["TK_2"]


def test_couplings_from_isa_loop_series_and_from_the_site_file() -> None:
    cat = _catalog({("GW",): [
        ("PT_2001.PV", "RAW WATER PUMP 1 DISCH PRESS", "bar", 0.0, 9.0),
        ("PDI_2010", "RAW WATER STRAINER DIFF PRESS", "mbar", 0.0, 400.0),
        ("FIT_2012.PV", "RAW WATER FLOW TO STORAGE TANK", "m3/h", 0.0, 300.0),
        ("LT_4001.PV", "STORAGE TANK LEVEL", "%", 0.0, 100.0),
        ("AIT_3020.PV", "CHLORINE ANALYSER RESIDUAL", "mg/l", 0.0, 2.0)],
    })
    sem = infer(cat)
    loops = from_loops(sem)
    assert loops is not None and loops.source == "loop numbers"
    strainer = next(e for e, s in sem.equipment.items() if s.eq_class == "filter")
    pump = next(e for e, s in sem.equipment.items() if s.eq_class == "pump")
    assert pump in loops.neighbours(strainer)
    site = AssetsFile.model_validate({"equipment": {pump: {"feeds": [strainer]}}})
    coupling = infer_coupling(sem, cat, site)
    assert coupling.source == "site file"
    assert coupling.neighbours(strainer, "upstream") == [pump]
    assert coupling.neighbours(pump, "upstream") == []
    assert coupling.neighbours(pump, "downstream") == [strainer]
