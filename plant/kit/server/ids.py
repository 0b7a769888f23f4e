"""Node ids of a test plant: strings (gateway and BMS styles) or numbers (ISA-95 style).

Tags carry their own identifier; folders and properties get one here: for a numeric
plant counted up from ``PlantDef.numeric_base`` in a fixed order (stable across
restarts), for a string plant their path joined with dots.
"""

from __future__ import annotations

from asyncua import ua

from plant.kit.spec import PlantDef


def node_id(identifier: str | int, namespace_index: int) -> ua.NodeId:
    """A string or numeric node id in the plant's namespace."""
    if isinstance(identifier, int):
        return ua.NodeId(ua.Int32(identifier), ua.Int16(namespace_index))
    return ua.NodeId(ua.String(identifier), ua.Int16(namespace_index))


class IdMaker:
    """Hands out the identifiers of folders and properties."""

    def __init__(self, plant: PlantDef) -> None:
        self._next = plant.numeric_base

    def folder(self, path: tuple[str, ...]) -> str | int:
        """Identifier of a folder object."""
        return self._take() if self._next is not None else ".".join(path)

    def prop(self, owner: str | int, name: str) -> str | int:
        """Identifier of a property of a variable."""
        return self._take() if self._next is not None else f"{owner}.{name}"

    def _take(self) -> int:
        assert self._next is not None
        value = self._next
        self._next += 1
        return value
