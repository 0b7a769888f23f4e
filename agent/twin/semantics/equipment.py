"""Equipment of the semantics: which tags belong together, and each equipment's class.

Three layouts are told apart by the hierarchy itself:
- an object with its variables (the common case): the object is the equipment;
- a point list ('points', 'values', ...): the object above it is the equipment;
- a flat gateway folder (tags of several ISA loops in one folder, loop objects beside
  them): the tags are grouped by the equipment their descriptions name (the class word
  and the words and number around it: 'RW PUMP 1 DISCH PRESS' -> 'RW PUMP 1'), groups of
  one class sharing a loop number merge, and a tag whose description names no equipment
  joins the group of its loop number, else of its loop block (same leading digits),
  where a class that carries its quantity wins a tie; still undecided, it stays
  unresolved and is listed.
The class is voted from the equipment's name, its description, its tags' descriptions
and the folder above it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from agent.twin.semantics.records import EquipmentSemantics, TagSemantics
from agent.twin.semantics.tags import Votes, loop_object
from agent.twin.semantics.vocabulary import (
    CLASS_PREFIXES,
    CLASS_QUANTITIES,
    CONTAINER_NAMES,
    FUNCTION_INDEX,
    PLACE_INDEX,
    QUANTITY_INDEX,
    STOP_WORDS,
    normalise,
    tokens,
)
from agent.twin.semantics.words import Hit, scan
from tools.opcua.catalog import Catalog
from tools.opcua.models import EquipmentInfo

_NUMBER = re.compile(r"^(\d+|[a-z])$")
_PREFIX = re.compile(r"^([A-Za-z]+)[-_ ]?\d")


def is_container(eq: EquipmentInfo) -> bool:
    """True for a point list whose object above is the equipment."""
    last = eq.browse_path[-1] if eq.browse_path else eq.name
    return normalise(last) in CONTAINER_NAMES and len(eq.browse_path) >= 2


def display_name(eq: EquipmentInfo) -> str:
    """The equipment's name: its own, or the object above a point list."""
    return eq.browse_path[-2] if is_container(eq) else eq.name


def is_flat(eq: EquipmentInfo, tags: dict[str, TagSemantics]) -> bool:
    """A gateway folder: its tags belong to two or more ISA loops."""
    loops = {tags[t].loop for t in eq.tags if t in tags and tags[t].loop}
    return len(loops) >= 2


@dataclass
class _Phrase:
    text: str
    eq_class: str
    key: str


def equipment_phrase(description: str) -> _Phrase | None:
    """The equipment a description names: its class word with the words before it that
    are not quantity, function or filler words, and a number after it."""
    raw = description.split()
    hits = scan(description, camel=False)
    cls = next((h for h in hits if h.kind == "class"), None)
    if cls is None:
        return None
    toks = tokens(description, camel=False)
    start = int(cls.position)
    end = start + len(cls.word.split())
    if end < len(toks) and _NUMBER.match(toks[end]):
        end += 1
    begin = start
    while begin > 0:
        word = toks[begin - 1]
        if word in STOP_WORDS or word in QUANTITY_INDEX or word in FUNCTION_INDEX:
            break
        if word in PLACE_INDEX and begin != start:
            break
        begin -= 1
    text = " ".join(toks[begin:end])
    # Keep the description's spelling when its words line up with the tokens.
    if len(raw) == len(toks):
        text = " ".join(raw[begin:end])
    return _Phrase(text=text, eq_class=cls.key, key=" ".join(toks[begin:end]))


@dataclass
class _Group:
    name: str
    eq_class: str | None
    tags: list[str] = field(default_factory=list)
    loops: set[str] = field(default_factory=set)
    catalog: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def _block(loop: str) -> str:
    return loop[: max(1, len(loop) - 2)]


def _group_flat(catalog: Catalog, pool: list[str],
                tags: dict[str, TagSemantics]) -> list[_Group]:
    groups: dict[str, _Group] = {}
    loose: list[str] = []
    for name in pool:
        info = catalog.tags[name]
        phrase = equipment_phrase(info.description or "")
        if phrase is None:
            loose.append(name)
            continue
        group = groups.setdefault(phrase.key, _Group(phrase.text, phrase.eq_class))
        group.tags.append(name)
        if tags[name].loop:
            group.loops.add(tags[name].loop or "")
        tags[name].equipment_confidence = 0.85
        tags[name].reasons.append(f"equipment named in its description: {phrase.text!r}")
    merged = _merge(list(groups.values()))
    for name in loose:
        _place(name, merged, tags)
    return merged


def _merge(groups: list[_Group]) -> list[_Group]:
    """Groups of one class sharing a loop number are one equipment ('HYPOCHLORITE DOSING'
    and 'DOSING PUMP' of loop 3010)."""
    out: list[_Group] = []
    for g in sorted(groups, key=lambda g: -len(g.tags)):
        same = next((o for o in out if o.eq_class == g.eq_class and o.loops & g.loops), None)
        if same is None:
            out.append(g)
        else:
            same.tags += g.tags
            same.loops |= g.loops
    return out


def _place(name: str, groups: list[_Group], tags: dict[str, TagSemantics]) -> None:
    sem = tags[name]
    if not sem.loop:
        sem.reasons.append("no equipment in its description and no loop number")
        return
    for how, found in (("loop", [g for g in groups if sem.loop in g.loops]),
                       ("loop block", [g for g in groups
                                       if _block(sem.loop) in {_block(x) for x in g.loops}])):
        if len(found) > 1 and sem.quantity:
            fitting = [g for g in found
                       if sem.quantity in CLASS_QUANTITIES.get(g.eq_class or "", frozenset())]
            found = fitting or found
        if len(found) == 1:
            group = found[0]
            group.tags.append(name)
            group.loops.add(sem.loop)
            sem.equipment_confidence = 0.7 if how == "loop" else 0.55
            sem.reasons.append(f"{how} {sem.loop if how == 'loop' else _block(sem.loop) + 'xx'}"
                               f" shared with {group.name!r}")
            return
        if len(found) > 1:
            sem.reasons.append(f"{how} of {sem.loop} shared by "
                               + ", ".join(repr(g.name) for g in found) + ": undecided")
            return
    sem.reasons.append(f"no other tag of loop {sem.loop} or its block names an equipment")


def _first_class(hits: list[Hit]) -> str | None:
    return next((h.key for h in hits if h.kind == "class"), None)


def vote_class(name: str, description: str | None, tag_descriptions: list[str],
               above: list[str]) -> tuple[str | None, float, list[str]]:
    """The class of an equipment from its name, description, tags and folder above."""
    votes = Votes()
    if (c := _first_class(scan(name))) is not None:
        votes.add(c, 0.8, f"name {name!r}: {c}")
    elif (m := _PREFIX.match(name)) and (c := CLASS_PREFIXES.get(m[1].lower())):
        votes.add(c, 0.5, f"name prefix {m[1]!r}: {c}")
    if description and (c := _first_class(scan(description, camel=False))) is not None:
        votes.add(c, 0.9, f"description {description!r}: {c}")
    counted: dict[str, int] = defaultdict(int)
    for text in tag_descriptions:
        if (c := _first_class(scan(text, camel=False))) is not None:
            counted[c] += 1
    for c, n in counted.items():
        votes.add(c, min(0.9, 0.35 * n), f"{n} tag description(s): {c}")
    for folder in above[-1:]:
        if (c := _first_class(scan(folder))) is not None:
            votes.add(c, 0.3, f"folder {folder!r}: {c}")
    eq_class, confidence = votes.winner()
    return eq_class, confidence, votes.reasons or ["no class word in name, description or tags"]


def build_equipment(catalog: Catalog, tags: dict[str, TagSemantics]
                    ) -> dict[str, EquipmentSemantics]:
    """Group the tags into equipment and vote each equipment's class."""
    out: dict[str, EquipmentSemantics] = {}
    flat = [e for e in catalog.equipment.values() if is_flat(e, tags)]
    pool_eq = flat + [e for e in catalog.equipment.values()
                      if e not in flat and loop_object(e.name) and flat]
    pool = [t for e in pool_eq for t in e.tags if t in tags]
    for eq in catalog.equipment.values():
        if eq in pool_eq:
            continue
        name = display_name(eq)
        descs = [catalog.tags[t].description or "" for t in eq.tags]
        above = eq.browse_path[:-2] if is_container(eq) else eq.browse_path[:-1]
        eq_class, conf, reasons = vote_class(name, eq.description, descs, above)
        where = (f"point list {eq.browse_path[-1]!r} of {name!r}" if is_container(eq)
                 else f"object {name!r}")
        for t in eq.tags:
            tags[t].equipment = name
            tags[t].equipment_confidence = 0.9
            tags[t].reasons.append(f"equipment from the hierarchy: {where}")
        words = tokens(name) + tokens(eq.description or "", camel=False)
        out[name] = EquipmentSemantics(name=name, eq_class=eq_class, confidence=conf,
                                       reasons=reasons, tags=list(eq.tags),
                                       catalog_equipment=[eq.name],
                                       words=list(dict.fromkeys(words)))
    if pool:
        for group in _group_flat(catalog, pool, tags):
            descs = [catalog.tags[t].description or "" for t in group.tags]
            eq_class, conf, reasons = vote_class(group.name, None, descs, [])
            for t in group.tags:
                tags[t].equipment = group.name
            cats = list(dict.fromkeys(catalog.tags[t].equipment for t in group.tags))
            out[group.name] = EquipmentSemantics(
                name=group.name, eq_class=eq_class, confidence=conf,
                reasons=[f"grouped from descriptions and loop numbers of a flat folder "
                         f"({', '.join(cats)})", *reasons],
                tags=group.tags, catalog_equipment=cats,
                words=list(dict.fromkeys(tokens(group.name, camel=False))))
        for t in pool:
            if tags[t].equipment is None:
                tags[t].equipment_confidence = 0.0
    return out
