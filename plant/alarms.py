"""Limit alarms of the demo plant, as pure logic (the server turns them into events).

Each tag has two conditions, High and Low, at the ends of its EURange (the normal
operating range). A condition activates when the value leaves the range and returns to
normal only once the value is back inside by a deadband, so noise at the limit does not
make the alarm chatter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from plant.tags import TAGS, TagSpec

Limit = Literal["High", "Low"]

#: Deadband as a share of the tag's normal range.
DEADBAND_FRACTION = 0.02
#: OPC UA severities (1..1000) of the two conditions.
SEVERITY: dict[Limit, int] = {"High": 700, "Low": 600}
#: High limits that protect the machine itself (a bearing or winding burning out):
#: the demo's most urgent alarms, the ones a site's policy may forbid shelving.
URGENT_HIGH_VARIABLES = frozenset(
    {"BearingTemperature", "MotorWindingTemperature", "WindingTemperature",
     "DischargeTemperature"}
)
URGENT_SEVERITY = 900


def severity_of(spec: TagSpec, limit: Limit) -> int:
    """The OPC UA severity of one condition of the demo plant."""
    if limit == "High" and spec.variable in URGENT_HIGH_VARIABLES:
        return URGENT_SEVERITY
    return SEVERITY[limit]


@dataclass(frozen=True)
class AlarmTransition:
    """A condition becoming active or returning to normal."""

    tag: str
    limit: Limit
    active: bool
    value: float
    limit_value: float
    unit: str
    severity: int

    @property
    def condition(self) -> str:
        """Stable condition name, e.g. "P-101.BearingTemperature.High"."""
        return f"{self.tag}.{self.limit}"

    def message(self) -> str:
        """The operator-facing message of the event."""
        if self.active:
            side = "above high" if self.limit == "High" else "below low"
            return (
                f"{self.tag} {self.value:.4g} {self.unit} {side} limit "
                f"{self.limit_value:.4g} {self.unit}"
            )
        return (
            f"{self.tag} back to normal ({self.value:.4g} {self.unit}), {self.limit} limit cleared"
        )


class LimitMonitor:
    """Tracks which conditions are active and reports transitions."""

    def __init__(
        self, tags: tuple[TagSpec, ...] = TAGS, unit_symbols: dict[str, str] | None = None
    ):
        self._tags = tags
        self._symbols = unit_symbols or {}
        self._active: set[tuple[str, Limit]] = set()

    def active(self) -> list[tuple[str, Limit]]:
        """Active conditions as (tag, limit)."""
        return sorted(self._active)

    def update(self, values: dict[str, float]) -> list[AlarmTransition]:
        """Compare a reading of every tag with the limits; return what changed."""
        out: list[AlarmTransition] = []
        for spec in self._tags:
            value = values.get(spec.name)
            if value is None:
                continue
            band = DEADBAND_FRACTION * spec.span
            out.extend(
                self._check(spec, "High", value > spec.high, value < spec.high - band, value)
            )
            out.extend(self._check(spec, "Low", value < spec.low, value > spec.low + band, value))
        return out

    def _check(
        self, spec: TagSpec, limit: Limit, beyond: bool, clear: bool, value: float
    ) -> list[AlarmTransition]:
        key = (spec.name, limit)
        was = key in self._active
        if not was and beyond:
            self._active.add(key)
        elif was and clear:
            self._active.discard(key)
        else:
            return []
        return [
            AlarmTransition(
                spec.name,
                limit,
                not was,
                value,
                spec.high if limit == "High" else spec.low,
                self._symbols.get(spec.unit, spec.unit),
                severity_of(spec, limit),
            )
        ]
