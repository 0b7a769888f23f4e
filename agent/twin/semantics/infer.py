"""Semantics of a whole catalog: every tag's quantity and function, grouped into
equipment with a class; then the site file's word over any inference."""

from __future__ import annotations

from agent.twin.semantics.equipment import build_equipment
from agent.twin.semantics.records import PlantSemantics, TagSemantics
from agent.twin.semantics.tags import infer_tag, loop_object
from tools.opcua.catalog import Catalog


def infer(catalog: Catalog) -> PlantSemantics:
    """Infer the semantics of every tag and equipment of ``catalog`` (pure, fast: rules
    only; a few thousand tags take well under a second)."""
    tags: dict[str, TagSemantics] = {}
    for eq in catalog.equipment.values():
        parent = loop_object(eq.browse_path[-1] if eq.browse_path else eq.name)
        for name in eq.tags:
            tags[name] = infer_tag(catalog.tags[name], parent_loop=parent)
    for name, info in catalog.tags.items():  # tags outside any equipment (none today)
        if name not in tags:
            tags[name] = infer_tag(info)
    equipment = build_equipment(catalog, tags)
    return PlantSemantics(tags=tags, equipment=equipment)


_CACHE: dict[int, tuple[Catalog, int, PlantSemantics]] = {}


def cached(catalog: Catalog) -> PlantSemantics:
    """``infer(catalog)``, once per catalog object (and its size)."""
    hit = _CACHE.get(id(catalog))
    if hit is not None and hit[0] is catalog and hit[1] == len(catalog.tags):
        return hit[2]
    semantics = infer(catalog)
    if len(_CACHE) > 8:
        _CACHE.clear()
    _CACHE[id(catalog)] = (catalog, len(catalog.tags), semantics)
    return semantics
