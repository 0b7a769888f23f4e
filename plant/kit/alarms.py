"""Limit alarms of a test plant, as pure logic (the server turns them into events).

Each alarmed tag has a High and a Low condition at its limits; a condition activates when
the value leaves the range and returns to normal once back inside by a deadband of 2 % of
the range. Messages are worded as systems of the plant's style word them: an ISA/DCS
alarm line, a German HMI text (decimal comma), a BMS point alarm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from plant.kit.spec import MessageStyle, TagDef
from plant.kit.units import KIT_UNITS

Limit = Literal["High", "Low"]
DEADBAND_FRACTION = 0.02
SEVERITY: dict[Limit, int] = {"High": 700, "Low": 600}


@dataclass(frozen=True)
class Transition:
    """A condition becoming active or returning to normal."""

    tag: TagDef
    limit: Limit
    active: bool
    value: float
    limit_value: float
    severity: int

    @property
    def condition(self) -> str:
        """Stable condition name: "<node identifier>.<High|Low>"."""
        return f"{self.tag.node}.{self.limit}"

    def message(self, style: MessageStyle) -> str:
        """The operator-facing message, worded in the plant's style."""
        tag, unit = self.tag, symbol(self.tag)
        if style == "isa":
            loop = tag.browse_name.replace(".PV", "").replace("/PV", "")
            words = tag.description.upper() or loop
            if not self.active:
                return f"{loop} {words} RTN {self.value:.1f} {unit}".rstrip()
            side = "HI" if self.limit == "High" else "LO"
            return (f"{loop} {words} {side} ALM {self.value:.1f} {unit} "
                    f"(LIM {self.limit_value:.1f})")
        if style == "de":
            where = " ".join(tag.folder[-1:]).replace("_", " ")
            what = tag.description or tag.browse_name
            value = f"{self.value:.1f}".replace(".", ",")
            limit = f"{self.limit_value:.1f}".replace(".", ",")
            if not self.active:
                return f"{where}: {what} wieder im Normalbereich ({value} {unit})"
            side = "Obergrenze überschritten" if self.limit == "High" else (
                "Untergrenze unterschritten")
            return f"{where}: {what} {side} ({value} {unit}, Grenzwert {limit} {unit})"
        point = f"{tag.folder[-1]} {tag.browse_name}" if tag.folder else tag.browse_name
        if not self.active:
            return f"{point} return to normal: {self.value:.1f} {unit}"
        side = "High" if self.limit == "High" else "Low"
        return (f"{point} {side} Limit Alarm: {self.value:.1f} {unit} "
                f"(limit {self.limit_value:.1f} {unit})")


def symbol(tag: TagDef) -> str:
    """The unit symbol of a tag ("" without a unit)."""
    return KIT_UNITS[tag.unit].symbol if tag.unit else ""


class LimitMonitor:
    """Tracks the active conditions of a plant's alarmed tags and reports transitions."""

    def __init__(self, tags: tuple[TagDef, ...]) -> None:
        self._tags = tuple(t for t in tags if t.alarm and t.data_type == "Double")
        self._active: set[tuple[str, Limit]] = set()

    def active(self) -> list[tuple[str, Limit]]:
        """Active conditions as (tag key, limit)."""
        return sorted(self._active)

    def update(self, values: dict[str, float]) -> list[Transition]:
        """Compare a reading of every tag with its limits; return what changed."""
        out: list[Transition] = []
        for tag in self._tags:
            value = values.get(tag.key)
            if value is None:
                continue
            band = DEADBAND_FRACTION * tag.span
            out += self._check(tag, "High", value > tag.high, value < tag.high - band, value)
            out += self._check(tag, "Low", value < tag.low, value > tag.low + band, value)
        return out

    def _check(self, tag: TagDef, limit: Limit, beyond: bool, clear: bool,
               value: float) -> list[Transition]:
        key = (tag.key, limit)
        was = key in self._active
        if not was and beyond:
            self._active.add(key)
        elif was and clear:
            self._active.discard(key)
        else:
            return []
        return [Transition(tag, limit, not was, value,
                           tag.high if limit == "High" else tag.low, SEVERITY[limit])]
