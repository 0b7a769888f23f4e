"""The site file's word over the inference: `[tag."NAME"]` sets a tag's quantity, places,
function or equipment; `[equipment.NAME] class` sets an equipment's class. A tag the
server does not have is a ConfigError naming the closest tags."""

from __future__ import annotations

import difflib
from pathlib import Path

from agent.errors import ConfigError
from agent.twin.assets.file import AssetsFile
from agent.twin.semantics.records import EquipmentSemantics, PlantSemantics


def closest(name: str, known: list[str], n: int = 3) -> list[str]:
    """The known names closest to ``name`` (by spelling, then by a shared part)."""
    found = difflib.get_close_matches(name, known, n=n, cutoff=0.4)
    if not found:
        low = name.lower()
        found = [k for k in known if low in k.lower() or k.lower() in low][:n]
    return found


def check_tags(site: AssetsFile, known: list[str], path: Path) -> None:
    """Every `[tag.X]` of the site file must name a tag of the server."""
    for name in site.tag:
        if name not in known:
            near = closest(name, known)
            raise ConfigError(
                f"{path}: tag.{name!r} names a tag the server does not have"
                + (f" (closest: {', '.join(near)})" if near else ""),
                fix=(f"did you mean {near[0]!r}?" if near else
                     "use a tag name exactly as `plantagent twin semantics` lists it")
                + f" or remove [tag.{name!r}] from {path}",
            )


def apply_site(semantics: PlantSemantics, site: AssetsFile, known: list[str],
               path: Path) -> PlantSemantics:
    """Apply the site file to ``semantics`` (in place; returned for chaining)."""
    check_tags(site, known, path)
    for name, entry in site.tag.items():
        sem = semantics.tags[name]
        changed = []
        if entry.quantity is not None:
            sem.quantity, sem.confidence = entry.quantity, 1.0
            changed.append("quantity")
        if entry.places is not None:
            sem.places = list(entry.places)
            changed.append("places")
        if entry.function is not None:
            sem.function = entry.function
            changed.append("function")
        if entry.equipment is not None and entry.equipment != sem.equipment:
            _move(semantics, name, sem.equipment, entry.equipment)
            sem.equipment = entry.equipment
            changed.append("equipment")
        if entry.equipment is not None:
            sem.equipment_confidence = 1.0
        sem.source = "site"
        sem.reasons.insert(0, f"site file {path.name}: {', '.join(changed) or 'confirmed'}")
    for name, eq_entry in site.equipment.items():
        eq = semantics.equipment.get(name)
        if eq is not None and eq_entry.parameters:
            eq.parameters = dict(eq_entry.parameters)
        if eq is not None and eq_entry.eq_class is not None:
            eq.eq_class, eq.confidence, eq.source = eq_entry.eq_class, 1.0, "site"
            eq.reasons.insert(0, f"site file {path.name}: class {eq_entry.eq_class}")
    return semantics


def _move(semantics: PlantSemantics, tag: str, old: str | None, new: str) -> None:
    if old is not None and old in semantics.equipment:
        semantics.equipment[old].tags.remove(tag)
    eq = semantics.equipment.setdefault(
        new, EquipmentSemantics(name=new, eq_class=None, confidence=0.0, source="site",
                                reasons=["named by the site file"], words=new.lower().split()))
    eq.tags.append(tag)
