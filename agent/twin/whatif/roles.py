"""Which tag plays which part in a what-if model: found by role through the tag semantics.

A model names its inputs and outputs with its own variable names (``FlowRate``,
``LeavingWaterTemperature``) and gives each a role (quantity, places, function) as the
semantics describe tags (agent.twin.semantics). On a plant the variable is the tag of the
equipment with that role, whatever the plant calls it: ``P-101.FlowRate``,
``PLC_PS01.FT_2001.PV`` or ``points.LWT``. Among several tags of the role the one whose
places say the least beyond the role wins; a tie is ambiguous (the site file settles it).
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.errors import ToolError
from agent.twin.assets.records import EquipmentAsset
from agent.twin.semantics.records import PlantSemantics, TagSemantics


@dataclass(frozen=True)
class VarRole:
    """The role of one model variable: quantity, the places it must have, its function."""

    quantity: str
    places: frozenset[str] = frozenset()
    #: The tag's function; 'measurement|output' accepts either (a fan speed may be only
    #: its drive's command).
    function: str = "measurement"

    def matches(self, tag: TagSemantics) -> bool:
        """True when ``tag`` plays this role (its places may say more)."""
        return (tag.quantity == self.quantity and tag.function in self.function.split("|")
                and self.places <= set(tag.places))

    def words(self) -> str:
        """'outlet temperature', 'flow', 'outlet temperature setpoint'."""
        text = " ".join([*sorted(self.places), self.quantity.replace("_", " ")])
        first = self.function.split("|")[0]
        return f"{text} {first}" if first != "measurement" else text


def role(text: str, function: str = "measurement") -> VarRole:
    """'bearing temperature' -> VarRole('temperature', {'bearing'}); the last word is the
    quantity (``differential_pressure`` written with an underscore)."""
    *places, quantity = text.split()
    return VarRole(quantity, frozenset(places), function)


@dataclass
class Resolution:
    """Variable key ('Var' or 'related:Var') -> full tag name, and what could not be found."""

    names: dict[str, str]
    missing: dict[str, VarRole]
    ambiguous: dict[str, list[str]]


def resolve(eq: EquipmentAsset, roles: dict[str, VarRole], semantics: PlantSemantics,
            prefix: str = "") -> Resolution:
    """Find each variable's tag on ``eq`` by its role. Without stored semantics (an asset
    model synced before they existed) a tag named '<equipment>.<Variable>' still counts."""
    out = Resolution({}, {}, {})
    tags = [semantics.tags[t.name] for t in eq.tags if t.name in semantics.tags]
    for variable, want in roles.items():
        key = f"{prefix}:{variable}" if prefix else variable
        hits = sorted((t for t in tags if want.matches(t)),
                      key=lambda t: len(set(t.places) - want.places))
        if not hits:
            legacy = f"{eq.name}.{variable}"
            if any(t.name == legacy for t in eq.tags):
                out.names[key] = legacy
            else:
                out.missing[key] = want
            continue
        best = len(set(hits[0].places) - want.places)
        tied = [t.tag for t in hits if len(set(t.places) - want.places) == best]
        exact = f"{eq.name}.{variable}"
        if len(tied) > 1 and exact not in tied:
            out.ambiguous[key] = tied
        out.names[key] = exact if exact in tied else tied[0]
    return out


def refuse_missing(eq: EquipmentAsset, eq_class: str, res: Resolution,
                   required: set[str]) -> None:
    """ToolError naming the first required role the equipment lacks (or has twice), and
    how the site file names it."""
    for key, want in res.missing.items():
        if key.rpartition(":")[2] not in required:
            continue
        owner = key.rpartition(":")[0] or eq.name
        places = ", ".join(f'"{p}"' for p in sorted(want.places))
        raise ToolError(
            f"{owner} ({eq_class}) has no tag with the role '{want.words()}' that the "
            f"{eq_class} what-if model needs",
            fix=f"if one of its tags measures it, name it in assets.toml: [tag.\"TAG\"] "
            f"quantity = \"{want.quantity}\""
            + (f", places = [{places}]" if places else "")
            + f", equipment = \"{owner}\"; `plantagent twin semantics` lists the tags",
        )
    for key, names in res.ambiguous.items():
        if key.rpartition(":")[2] not in required:
            continue
        raise ToolError(
            f"{eq.name} ({eq_class}) has several tags that could be the model's "
            f"{key.rpartition(':')[2]}: {', '.join(names[:4])}",
            fix="give the right one its places in assets.toml: [tag.\"TAG\"] places = [...]",
        )
