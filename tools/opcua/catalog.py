"""The plant catalog: equipment and tags found by a browse, looked up by name.

The catalog is plain data (no asyncua types), so the twin, the schema builder and tests can
build one without a server. Name lookups fail with close matches the model can retry with.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

from agent.errors import UnknownNameError
from tools.opcua.models import EquipmentInfo, TagInfo


def _close(name: str, known: Iterable[str], n: int = 5) -> list[str]:
    known = list(known)
    matches = difflib.get_close_matches(name, known, n=n, cutoff=0.5)
    if not matches:
        # A different case or a missing prefix ('FlowRate', 'p-101') still deserves help.
        low = name.lower()
        matches = [k for k in known if low in k.lower()][:n]
    return matches


def _did_you_mean(suggestions: list[str]) -> str | None:
    return f"did you mean {' or '.join(repr(s) for s in suggestions[:3])}?" if suggestions else None


@dataclass
class Catalog:
    """Equipment and tags of one server, in browse order."""

    endpoint: str = ""
    equipment: dict[str, EquipmentInfo] = field(default_factory=dict)
    tags: dict[str, TagInfo] = field(default_factory=dict)
    _by_node_id: dict[str, TagInfo] | None = field(default=None, repr=False, compare=False)

    def add(self, equipment: EquipmentInfo, tags: Iterable[TagInfo]) -> None:
        """Add one equipment and its tags (the browse calls this)."""
        tag_list = list(tags)
        equipment.tags = [t.name for t in tag_list]
        self.equipment[equipment.name] = equipment
        for tag in tag_list:
            self.tags[tag.name] = tag

    def tag(self, name: str) -> TagInfo:
        """The tag called ``name``; UnknownNameError with close matches otherwise."""
        try:
            return self.tags[name]
        except KeyError:
            suggestions = _close(name, self.tags)
            raise UnknownNameError(
                f"no tag named {name!r}",
                fix=_did_you_mean(suggestions)
                or "use a tag name exactly as describe_equipment shows it",
                suggestions=suggestions,
            ) from None

    def get_equipment(self, name: str) -> EquipmentInfo:
        """The equipment called ``name``; UnknownNameError with close matches otherwise."""
        try:
            return self.equipment[name]
        except KeyError:
            suggestions = _close(name, self.equipment)
            raise UnknownNameError(
                f"no equipment named {name!r}",
                fix=_did_you_mean(suggestions)
                or "use an equipment name exactly as list_equipment shows it",
                suggestions=suggestions,
            ) from None

    def tags_of(self, equipment: str) -> list[TagInfo]:
        """All tags of one equipment, in browse order."""
        return [self.tags[t] for t in self.get_equipment(equipment).tags]

    def tag_by_node_id(self, node_id: str) -> TagInfo | None:
        """The tag with this expanded node id, if the catalog has it."""
        if self._by_node_id is None or len(self._by_node_id) != len(self.tags):
            self._by_node_id = {t.node_id: t for t in self.tags.values()}
        return self._by_node_id.get(node_id)

    def tag_names(self) -> list[str]:
        """Every tag name, for the enum of TagName fields in the model's schema."""
        return list(self.tags)

    def equipment_names(self) -> list[str]:
        """Every equipment name, for the enum of EquipmentName fields."""
        return list(self.equipment)

    def enum_values(self, source: str) -> list[str]:
        """Names for a schema enum marker (tools.registry.ENUM_SOURCE_KEY): 'tag'/'equipment'."""
        if source == "tag":
            return self.tag_names()
        if source == "equipment":
            return self.equipment_names()
        raise ValueError(f"unknown enum source {source!r}")

    def __len__(self) -> int:
        return len(self.tags)
