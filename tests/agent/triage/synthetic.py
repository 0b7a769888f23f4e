"""Synthetic plants for the diagnosis's unit tests: a catalog built from browse paths and
tag specs (descriptions are the only words, as on a gateway), and the ranked causes the
diagnosis gives for features computed from made-up series."""

from __future__ import annotations

from agent.triage.diagnose import PlantView, diagnose
from agent.triage.evidence import EvidenceBook
from agent.triage.features import TagFeatures
from agent.triage.library import load_library
from agent.triage.models import Candidate
from agent.twin.coupling.relations import infer_coupling
from agent.twin.semantics.infer import infer
from tools.opcua.catalog import Catalog
from tools.opcua.models import EquipmentInfo, TagInfo

#: A tag: browse name, description, unit, EU low, EU high.
Spec = tuple[str, str, str, float, float]


def catalog_of(equipment: dict[tuple[str, ...], list[Spec]]) -> Catalog:
    """A catalog of one equipment per browse path (its last element is its name)."""
    cat = Catalog()
    for path, specs in equipment.items():
        eq = path[-1]
        cat.add(EquipmentInfo(name=eq, browse_path=list(path), node_id=f"ns=2;s={eq}"), [
            TagInfo(name=f"{eq}.{b}", equipment=eq, browse_path=[*path, b],
                    node_id=f"ns=2;s={eq}.{b}", namespace_uri="urn:test", unit=u,
                    eu_low=lo, eu_high=hi, description=d, data_type="Double")
            for b, d, u, lo, hi in specs])
    return cat


def ranked_candidates(cat: Catalog, feats: dict[str, TagFeatures]) -> list[Candidate]:
    """Every candidate, ranked, through the plant's inferred semantics and couplings and
    the shipped fault library."""
    sem = infer(cat)
    view = PlantView(feats, {e: list(s.tags) for e, s in sem.equipment.items()},
                     infer_coupling(sem, cat), {t: cat.tags[t].unit for t in cat.tags},
                     sem.tags, {e: s.eq_class for e, s in sem.equipment.items()},
                     load_library(None))
    return diagnose(view, EvidenceBook())


def ranked_causes(cat: Catalog, feats: dict[str, TagFeatures]) -> list[tuple[str, str | None]]:
    """(cause, tag) of every candidate, ranked (see ranked_candidates)."""
    return [(c.cause, c.tag) for c in ranked_candidates(cat, feats)]
