"""Which equipment feels another's faults: from the site file, else from the plant's
own structure. Never from names of one plant.

Sources, strongest first:
- the site file (``assets.toml``): ``feeds = [...]`` (material flows from this equipment
  to those: they are downstream of it) and ``drives = [...]`` (mechanical coupling). When
  the site file states any relation, it is the whole truth: the site knows its process.
- flow-direction words in the descriptions ("discharge to the strainer", "Zulauf zum
  Behälter 1", "alimentado por la bomba 2": agent/twin/coupling/flow_words.py): each pair they
  name gets its direction; the other relations come from the sources below.
- ISA-5.1 loop numbers: equipment whose tags share a loop series (the loop number without
  its last two digits: loops 2001, 2010 and 2034 are series 20) sit in one process unit.
  An equipment measured in two series (a tank with its inflow loop 2010 and its level
  loop 4001) joins both.
- the hierarchy: equipment under one parent (a line, a unit, a device network) are
  siblings; an equipment alone under its parent climbs to the level above, so a filter in
  its own "Filtration" folder of a line is a sibling of the pumps of that line.

Inferred couplings have no direction: such a neighbour counts as upstream and downstream.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from agent.twin.assets.file import AssetsFile
from agent.twin.assets.records import EquipmentAsset
from agent.twin.coupling.flow_words import from_descriptions, from_texts
from agent.twin.semantics.records import PlantSemantics
from agent.twin.semantics.vocabulary import CONTAINER_NAMES
from tools.opcua.catalog import Catalog


@dataclass(frozen=True)
class Coupling:
    """Directed and undirected relations between equipment (by semantic equipment name)."""

    downstream: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    upstream: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Related without a known direction (inferred).
    related: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Where the relations came from: "site file", "loop numbers", "hierarchy", "none"
    #: ("descriptions + ..." when descriptions gave some of them a direction).
    source: str = "none"

    def neighbours(self, equipment: str, scope: str = "coupled") -> list[str]:
        """Equipment ``scope`` of ``equipment`` ("upstream", "downstream", "coupled")."""
        down = list(self.downstream.get(equipment, ()))
        up = list(self.upstream.get(equipment, ()))
        rel = list(self.related.get(equipment, ()))
        picked = {"upstream": up + rel, "downstream": down + rel}.get(scope, up + down + rel)
        return [e for e in dict.fromkeys(picked) if e != equipment]

    def get(self, equipment: str, default: Sequence[str] = ()) -> Sequence[str]:
        """Every equipment coupled to ``equipment`` (any direction)."""
        return self.neighbours(equipment) or list(default)


def _sym(pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for a, b in pairs:
        if a != b:
            out.setdefault(a, []).append(b)
            out.setdefault(b, []).append(a)
    return {k: tuple(dict.fromkeys(v)) for k, v in out.items()}


def from_site_file(assets: AssetsFile, semantics: PlantSemantics) -> Coupling | None:
    """The relations the site file states, None when it states none."""
    known = set(semantics.equipment)
    down: dict[str, list[str]] = {}
    up: dict[str, list[str]] = {}
    drives: list[tuple[str, str]] = []
    stated = False
    for name, entry in assets.equipment.items():
        for target in entry.feeds:
            stated = True
            down.setdefault(name, []).append(target)
            up.setdefault(target, []).append(name)
        for target in entry.drives:
            stated = True
            drives.append((name, target))
    if not stated:
        return None
    # Unknown names stay in: the site may name equipment the server shows later; a
    # neighbour without tags simply adds nothing.
    _ = known
    return Coupling({k: tuple(v) for k, v in down.items()},
                    {k: tuple(v) for k, v in up.items()}, _sym(drives), "site file")


def _series(loop: str | None) -> str | None:
    digits = "".join(ch for ch in loop or "" if ch.isdigit())
    return digits[:-2] if len(digits) >= 3 else None


def from_loops(semantics: PlantSemantics) -> Coupling | None:
    """Equipment sharing an ISA loop series; None unless every equipment with tags has
    loop numbers (a plant named otherwise says nothing by them)."""
    series: dict[str, set[str]] = {}
    for name, eq in semantics.equipment.items():
        found = {s for t in eq.tags if (s := _series(semantics.tags[t].loop)) is not None}
        if not found:
            return None
        series[name] = found
    pairs = [(a, b) for a in series for b in series if a < b and series[a] & series[b]]
    return Coupling(related=_sym(pairs), source="loop numbers") if series else None


def _unit_path(path: Sequence[str]) -> tuple[str, ...]:
    p = list(path)
    if p and p[-1].lower() in CONTAINER_NAMES:
        p = p[:-1]
    return tuple(p[:-1])


def from_hierarchy(semantics: PlantSemantics, catalog: Catalog) -> Coupling:
    """Siblings under one parent; an equipment alone under its parent climbs a level."""
    return from_paths(semantics, {c: e.browse_path for c, e in catalog.equipment.items()})


def from_paths(semantics: PlantSemantics, browse_paths: Mapping[str, Sequence[str]]
               ) -> Coupling:  # fmt: skip
    """The hierarchy's couplings from the browse path of each catalog equipment."""
    units: dict[str, tuple[str, ...]] = {}
    for name, eq in semantics.equipment.items():
        paths = [_unit_path(browse_paths[c])
                 for c in eq.catalog_equipment if c in browse_paths]
        units[name] = min(paths, key=len) if paths else ()
    for name, unit in list(units.items()):
        while len(unit) > 1 and sum(1 for u in units.values() if u[:len(unit)] == unit) < 2:
            unit = unit[:-1]
        units[name] = unit
    pairs = []
    for a, ua in units.items():
        for b, ub in units.items():
            if a < b and ua and ub and (ua == ub[:len(ua)] or ub == ua[:len(ub)]):
                pairs.append((a, b))
    return Coupling(related=_sym(pairs), source="hierarchy")


def with_flow_words(base: Coupling, pairs: Sequence[tuple[str, str]]) -> Coupling:
    """``base`` with the (upstream, downstream) pairs the descriptions state: each such
    pair directed, every other relation of ``base`` kept as it was."""
    if not pairs:
        return base
    directed = {frozenset(p) for p in pairs}
    down: dict[str, list[str]] = {}
    up: dict[str, list[str]] = {}
    for a, b in pairs:
        down.setdefault(a, []).append(b)
        up.setdefault(b, []).append(a)
    related = {k: tuple(v for v in vs if frozenset((k, v)) not in directed)
               for k, vs in base.related.items()}
    return Coupling({k: tuple(dict.fromkeys(v)) for k, v in down.items()},
                    {k: tuple(dict.fromkeys(v)) for k, v in up.items()},
                    {k: v for k, v in related.items() if v},
                    f"descriptions + {base.source}")


def infer_coupling(semantics: PlantSemantics, catalog: Catalog,
                   assets: AssetsFile | None = None) -> Coupling:
    """The site file's relations; else the flow directions the descriptions state, the
    rest from loop series, else from the hierarchy."""
    if assets is not None:
        site = from_site_file(assets, semantics)
        if site is not None:
            return site
    base = from_loops(semantics) or from_hierarchy(semantics, catalog)
    return with_flow_words(base, from_descriptions(semantics, catalog))


def coupling_of_records(semantics: PlantSemantics, equipment: Sequence[EquipmentAsset]
                        ) -> Coupling:  # fmt: skip
    """The same sources from the asset model's records (as the what-if reads the plant):
    the site file's ``feeds``/``drives`` kept on them when any is stated, else the flow
    words of their descriptions over the loop series or the hierarchy of their paths."""
    down: dict[str, list[str]] = {}
    up: dict[str, list[str]] = {}
    drives: list[tuple[str, str]] = []
    for e in equipment:
        for target in e.feeds:
            down.setdefault(e.name, []).append(target)
            up.setdefault(target, []).append(e.name)
        drives += [(e.name, target) for target in e.drives]
    if down or drives:
        return Coupling({k: tuple(v) for k, v in down.items()},
                        {k: tuple(v) for k, v in up.items()}, _sym(drives), "site file")
    texts = {e.name: e.description for e in equipment if e.description}
    texts.update({t.name: t.description for e in equipment for t in e.tags if t.description})
    base = from_loops(semantics) or from_paths(
        semantics, {e.name: e.path.split("/") for e in equipment})
    return with_flow_words(base, from_texts(semantics, texts))
