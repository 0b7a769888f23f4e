"""Couplings get their direction from flow words in the plant's own descriptions ("pump
discharge to strainer STR_9", "Zulauf vom Filter 3"), after the site file and before the
hierarchy. Checked on two plants named differently (ISA loop tags in English, a German
hierarchy)."""

from __future__ import annotations

import pytest

from agent.twin.assets.file import AssetsFile
from agent.twin.coupling.flow_words import equipment_names, flow_pairs
from agent.twin.coupling.relations import infer_coupling
from agent.twin.semantics.infer import infer
from tools.opcua.catalog import Catalog

from .synthetic import Spec, catalog_of

#: Per plant: pump, strainer, tank (their folder names) and the tags, where the pump's
#: flow says where it goes and the tank's inflow where it comes from.
PLANTS: dict[str, tuple[str, str, str, dict[tuple[str, ...], list[Spec]]]] = {
    "isa": ("PU_1", "STR_9", "TK_3", {
        ("Plant", "Line_A", "PU_1"): [
            ("PT_1", "pump discharge pressure", "bar", 0.0, 10.0),
            ("FT_1", "pump discharge flow to strainer STR_9", "m3/h", 0.0, 100.0)],
        ("Plant", "Line_A", "STR_9"): [
            ("PDT_9", "strainer differential pressure", "mbar", 0.0, 500.0)],
        ("Plant", "Line_A", "TK_3"): [
            ("LT_3", "tank level", "%", 0.0, 100.0),
            ("FT_3", "tank inflow from the strainer STR_9", "m3/h", 0.0, 100.0)],
    }),
    "german": ("Pumpe_3", "Filter_3", "Behaelter_3", {
        ("Werk", "Kuehlkreis", "Pumpe_3"): [
            ("Druck", "Druck Druckseite Pumpe", "bar", 0.0, 10.0),
            ("Foerderstrom", "Förderstrom Pumpe 3 zum Filter 3", "m3/h", 0.0, 100.0)],
        ("Werk", "Kuehlkreis", "Filter_3"): [
            ("Differenzdruck", "Differenzdruck Filter", "mbar", 0.0, 500.0)],
        ("Werk", "Kuehlkreis", "Behaelter_3"): [
            ("Fuellstand", "Füllstand Behälter", "%", 0.0, 100.0),
            ("Zulauf", "Zulauf vom Filter 3", "m3/h", 0.0, 100.0)],
    }),
}


def _catalog(plant: str, *, words: bool = True) -> Catalog:
    tags = PLANTS[plant][3]
    if not words:
        # The same plant with descriptions that name no flow direction.
        tags = {path: [(b, d.split(" to ")[0].split(" from ")[0].split(" zum ")[0]
                        .replace("Zulauf vom Filter 3", "Zulauf"), u, lo, hi)
                       for b, d, u, lo, hi in specs] for path, specs in tags.items()}
    return catalog_of(tags)


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_flow_words_give_the_hierarchy_s_couplings_their_direction(plant: str) -> None:
    pump, strainer, tank, _ = PLANTS[plant]
    cat = _catalog(plant)
    coupling = infer_coupling(infer(cat), cat)
    assert coupling.source == "descriptions + hierarchy"
    assert coupling.neighbours(strainer, "upstream") == [pump]
    assert coupling.neighbours(strainer, "downstream") == [tank]
    assert strainer in coupling.neighbours(tank, "upstream")
    assert strainer not in coupling.neighbours(tank, "downstream")
    assert strainer not in coupling.neighbours(pump, "upstream")
    # The pump and the tank stay related by the hierarchy, without a direction.
    assert pump in coupling.neighbours(tank, "upstream")
    assert pump in coupling.neighbours(tank, "downstream")
    # Without the flow words, every sibling counts as upstream and downstream.
    bare = _catalog(plant, words=False)
    undirected = infer_coupling(infer(bare), bare)
    assert undirected.source == "hierarchy"
    assert set(undirected.neighbours(strainer, "upstream")) == {pump, tank}


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_the_site_file_still_wins_over_the_descriptions(plant: str) -> None:
    pump, strainer, tank, _ = PLANTS[plant]
    cat = _catalog(plant)
    site = AssetsFile.model_validate({"equipment": {tank: {"feeds": [strainer]}}})
    coupling = infer_coupling(infer(cat), cat, site)
    assert coupling.source == "site file"
    assert coupling.neighbours(strainer, "upstream") == [tank]
    assert pump not in coupling.neighbours(strainer)


def test_a_phrase_naming_itself_or_two_equipment_alike_says_nothing() -> None:
    cat = catalog_of({
        ("Plant", "Area", "TK_1"): [("LT_1", "tank level", "%", 0.0, 100.0)],
        ("Plant", "Area", "TK_2"): [("LT_2", "tank level", "%", 0.0, 100.0)],
        ("Plant", "Area", "PU_5"): [("FT_5", "pump flow", "m3/h", 0.0, 100.0)],
    })
    names = equipment_names(infer(cat))
    assert flow_pairs("flow to tank TK_2", "PU_5", names) == [("PU_5", "TK_2")]
    assert flow_pairs("alimentado por la bomba PU-5", "TK_1", names) == [("PU_5", "TK_1")]
    assert flow_pairs("Ablauf von TK 1 nach Kanal", "PU_5", names) == [("TK_1", "PU_5")]
    # Its own name, a name two equipment share, no name at all: nothing.
    assert flow_pairs("inflow to TK_1", "TK_1", names) == []
    assert flow_pairs("discharge to the tank", "PU_5", names) == []
    assert flow_pairs("treated water to distribution", "PU_5", names) == []
