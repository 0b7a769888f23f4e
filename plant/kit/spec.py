"""What a test plant is, as data: equipment, tags, couplings, faults and naming style.

A plant definition says what exists (equipment with its class and human names), what is
measured (tags with the quantity they measure, served under the plant's own naming:
browse name, node id, folder, description, unit, range), which equipment feels which
(couplings), and which faults can be injected. The process that moves the values is a
:class:`plant.kit.process.Process` built from ``agent.twin.physics``; the server
(:mod:`plant.kit.server`) serves any definition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from plant.kit.process import Process

Profile = Literal["accelerating", "first_order", "ramp", "step"]
DataType = Literal["Double", "Boolean"]
#: How alarm messages are worded (each style as real systems of its kind word them).
MessageStyle = Literal["isa", "de", "bms"]
#: Instrument fault modes every plant offers on any measured tag.
SENSOR_FAULTS = ("instrument.drift", "instrument.stuck")


@dataclass(frozen=True)
class EquipmentDef:
    """One piece of equipment.

    ``id`` is its identity in the ground truth (the tag number on the P&ID, e.g.
    "P-2001"); ``names`` are what people call it ("raw water pump 1"); ``folder`` is its
    object's browse path below Objects (empty when the server has no node for it, as in a
    flat gateway export); ``primary`` is the tag key a sensor fault hits by default.
    """

    id: str
    eq_class: str
    names: tuple[str, ...]
    description: str
    primary: str
    folder: tuple[str, ...] = ()


@dataclass(frozen=True)
class TagDef:
    """One measured or controlled value and how the server shows it.

    ``key`` is "<equipment id>.<quantity>" (the ground truth's name for it, never
    served); ``quantity`` is what it measures ("bearing_temperature", "flow", ...);
    ``folder`` is the browse path of its parent object; ``node`` the node id's identifier
    (a string or a number). ``unit`` None: no EngineeringUnits; ``show_range`` False: no
    EURange. ``low``/``high`` are the alarm limits (and the EURange when shown).
    """

    key: str
    quantity: str
    browse_name: str
    folder: tuple[str, ...]
    node: str | int
    description: str
    unit: str | None
    low: float
    high: float
    noise: float
    show_range: bool = True
    alarm: bool = True
    data_type: DataType = "Double"
    #: A setpoint or command as people entered it: exact, never noisy or drifting.
    exact: bool = False

    @property
    def equipment(self) -> str:
        """The id of the equipment the tag belongs to."""
        return self.key.rsplit(".", 1)[0]

    @property
    def span(self) -> float:
        """Width of the normal range."""
        return self.high - self.low

    @property
    def path(self) -> str:
        """Browse path below Objects, '/'-joined (how a person finds it in a browser)."""
        return "/".join([*self.folder, self.browse_name])


@dataclass(frozen=True)
class Symptom:
    """A tag expected to move one way under a fault ("up", "down", "frozen")."""

    tag: str
    direction: Literal["up", "down", "frozen"]


@dataclass(frozen=True)
class FaultDef:
    """A fault mode, named "<equipment class>.<mode>", and the equipment it fits."""

    name: str
    targets: tuple[str, ...]
    description: str
    onset_s: float
    profile: Profile
    symptoms: tuple[Symptom, ...] = ()
    #: Acts on a tag's reading, not on the process.
    sensor: bool = False


@dataclass(frozen=True)
class PlantDef:
    """A whole test plant: identity, naming style, equipment, tags, couplings, faults."""

    name: str
    title: str
    namespace_uri: str
    style: str
    message_style: MessageStyle
    equipment: tuple[EquipmentDef, ...]
    tags: tuple[TagDef, ...]
    faults: tuple[FaultDef, ...]
    process: Callable[[], Process]
    #: (upstream, downstream): the downstream equipment feels the upstream one.
    couplings: tuple[tuple[str, str], ...] = ()
    #: Folder nodes with a Description (browse path -> text); others get none.
    folder_descriptions: dict[tuple[str, ...], str] = field(default_factory=dict)
    #: Numeric node ids are given from here on for folders and properties.
    numeric_base: int | None = None
    language: str = "en"

    def tag(self, key: str) -> TagDef:
        """The tag with this key (KeyError names the plant)."""
        for t in self.tags:
            if t.key == key:
                return t
        raise KeyError(f"no tag {key!r} in plant {self.name}")

    def equipment_by_id(self) -> dict[str, EquipmentDef]:
        """Equipment keyed by id."""
        return {e.id: e for e in self.equipment}

    def tags_of(self, equipment: str) -> list[TagDef]:
        """The tags of one equipment, in served order."""
        return [t for t in self.tags if t.equipment == equipment]

    def fault(self, name: str) -> FaultDef:
        """The fault mode called ``name`` (KeyError otherwise)."""
        for f in self.faults:
            if f.name == name:
                return f
        raise KeyError(f"no fault {name!r} in plant {self.name}")
