"""What the semantics say about a tag and an equipment (plain dataclasses; the store and
the CLI turn them into rows and JSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Function = Literal["measurement", "setpoint", "output", "state"]
Source = Literal["inferred", "site"]

#: Below this confidence a tag's quantity or equipment counts as unresolved.
RESOLVED = 0.5


@dataclass
class TagSemantics:
    """The measured quantity, its place and function, and the equipment of one tag."""

    tag: str
    quantity: str | None
    places: list[str] = field(default_factory=list)
    function: Function = "measurement"
    equipment: str | None = None
    confidence: float = 0.0
    equipment_confidence: float = 0.0
    reasons: list[str] = field(default_factory=list)
    source: Source = "inferred"
    #: The tag's loop number when its name is an ISA-5.1 tag.
    loop: str | None = None
    #: Words of the tag's description and name (for lexical matching of questions).
    words: list[str] = field(default_factory=list)

    @property
    def role(self) -> str:
        """'bearing temperature', 'supply temperature setpoint', 'controller output'."""
        if self.quantity is None:
            return "unknown"
        base = " ".join([*self.places, self.quantity.replace("_", " ")])
        if self.function == "setpoint":
            return f"{base} setpoint"
        if self.function == "output":
            return f"{base} output" if self.quantity != "output" else "controller output"
        return base

    @property
    def resolved(self) -> bool:
        """True when both the quantity and the equipment are known well enough."""
        return (self.quantity is not None and self.confidence >= RESOLVED
                and self.equipment is not None and self.equipment_confidence >= RESOLVED)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (with the role)."""
        return {**asdict(self), "role": self.role, "resolved": self.resolved}


@dataclass
class EquipmentSemantics:
    """An equipment as the semantics see it: its class and tags (it may group tags a
    flat server keeps in one folder, or be named by the object above a point list)."""

    name: str
    eq_class: str | None
    confidence: float
    reasons: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    #: The catalog equipment its tags come from.
    catalog_equipment: list[str] = field(default_factory=list)
    #: Words that name it (its name, description phrase, the folder above).
    words: list[str] = field(default_factory=list)
    source: Source = "inferred"
    #: The site file's what-if parameters for it (``[equipment.NAME] parameters``): kept
    #: here because an equipment the semantics name (a flat gateway's loop, called by its
    #: description) has no row of its own in the asset model to hold them.
    parameters: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return asdict(self)


@dataclass
class PlantSemantics:
    """Semantics of every tag and equipment of one catalog."""

    tags: dict[str, TagSemantics] = field(default_factory=dict)
    equipment: dict[str, EquipmentSemantics] = field(default_factory=dict)

    def unresolved(self) -> list[TagSemantics]:
        """Tags whose quantity or equipment is not known well enough, in catalog order."""
        return [t for t in self.tags.values() if not t.resolved]

    def of_class(self, eq_class: str) -> list[EquipmentSemantics]:
        """Equipment of a class, in catalog order."""
        return [e for e in self.equipment.values() if e.eq_class == eq_class]

    def tags_of(self, equipment: str) -> list[TagSemantics]:
        """The tags of one equipment."""
        eq = self.equipment.get(equipment)
        return [self.tags[t] for t in eq.tags if t in self.tags] if eq else []

    def with_quantity(self, quantity: str) -> list[TagSemantics]:
        """Tags measuring ``quantity`` (any function)."""
        return [t for t in self.tags.values() if t.quantity == quantity]
