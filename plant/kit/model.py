"""KitModel: a test plant you can step, read and break on purpose, without a server.

Deterministic for a seed and a sequence of calls; simulated seconds.

    model = KitModel(plant_def, seed=7)
    model.inject("pump.bearing_wear", "P-2001")
    model.advance(3 * 3600)
    model.values()["P-2001.bearing_temperature"]
"""

from __future__ import annotations

import copy
import difflib
import random
from dataclasses import dataclass

from agent.errors import InvalidArgumentError, UnknownNameError
from plant.kit.process import Process, Severities
from plant.kit.profiles import severity
from plant.kit.sensors import Transmitters
from plant.kit.spec import FaultDef, PlantDef, TagDef


@dataclass(frozen=True)
class FaultStatus:
    """An active fault as reported to people and over OPC UA."""

    fault: str
    equipment: str
    tag: str | None
    started_s: float
    severity: float


@dataclass
class _Active:
    spec: FaultDef
    equipment: str
    tag: str | None
    started_s: float

    def severity(self, now_s: float) -> float:
        return severity(self.spec.profile, self.spec.onset_s, now_s - self.started_s)


def close_matches(name: str, candidates: list[str]) -> list[str]:
    """Up to three candidates that look like ``name`` (case-insensitive)."""
    lowered = {c.lower(): c for c in candidates}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.5)
    return [lowered[h] for h in hits]


class KitModel:
    """A test plant's process, transmitters and faults."""

    def __init__(self, plant: PlantDef, *, seed: int = 7, warmup_s: float = 3600.0,
                 max_dt: float = 5.0) -> None:
        self.plant = plant
        self.seed = seed
        self.max_dt = max_dt
        self._rng = random.Random(seed)
        self.process: Process = plant.process()
        self._sensors = Transmitters(seed, plant.tags)
        self._faults: list[_Active] = []
        self._tags = {t.key: t for t in plant.tags}
        self._by_browse = {t.browse_name: t for t in plant.tags}
        self._by_node = {str(t.node): t for t in plant.tags}
        self.time_s = 0.0
        # Controllers and temperatures settle, so the first reading is a normal one.
        self.advance(warmup_s)
        self.time_s = 0.0

    def clone(self) -> KitModel:
        """An independent copy: a what-if branch point."""
        return copy.deepcopy(self)

    # -- stepping ------------------------------------------------------------------------

    def advance(self, seconds: float, dt: float | None = None) -> None:
        """Advance by ``seconds`` in steps of at most ``dt`` (default ``max_dt``)."""
        step = min(dt or self.max_dt, self.max_dt)
        remaining = seconds
        while remaining > 1e-9:
            this = min(step, remaining)
            self.process.step(self._severities(), self._rng, this)
            self.time_s += this
            remaining -= this

    def _severities(self) -> Severities:
        out: Severities = {}
        for f in self._faults:
            if not f.spec.sensor:
                key = (f.spec.name, f.equipment)
                out[key] = max(out.get(key, 0.0), f.severity(self.time_s))
        return out

    # -- reading -------------------------------------------------------------------------

    def true_values(self) -> dict[str, float]:
        """Noise-free process values keyed by tag key."""
        return self.process.values()

    def values(self) -> dict[str, float]:
        """One reading of every tag, keyed by tag key: noise and sensor faults applied."""
        drift = {f.tag: f.severity(self.time_s) for f in self._faults
                 if f.spec.name == "instrument.drift" and f.tag is not None}
        return self._sensors.read(self.true_values(), drift)

    # -- faults --------------------------------------------------------------------------

    def resolve(self, fault: FaultDef, target: str) -> tuple[str, str | None]:
        """(equipment id, tag key) a fault acts on for ``target``: an equipment id, or
        for instrument faults also a tag key, browse name or node identifier."""
        if fault.sensor:
            tag = self._find_tag(target)
            if tag is not None:
                return tag.equipment, tag.key
        equipment = self.plant.equipment_by_id()
        if target not in equipment:
            names = list(equipment) + (list(self._tags) if fault.sensor else [])
            raise UnknownNameError(
                f"no equipment {target!r} in plant {self.plant.name}",
                fix=f"use one of: {', '.join(equipment)}",
                suggestions=close_matches(target, names),
            )
        if fault.sensor:
            return target, equipment[target].primary
        if target not in fault.targets:
            raise InvalidArgumentError(
                f"fault {fault.name!r} does not apply to {target}",
                fix=f"inject it on one of: {', '.join(fault.targets)}",
                suggestions=list(fault.targets),
            )
        return target, None

    def _find_tag(self, target: str) -> TagDef | None:
        return (self._tags.get(target) or self._by_browse.get(target)
                or self._by_node.get(target))

    def lookup(self, name: str) -> FaultDef:
        """The fault mode called ``name``; UnknownNameError with close matches."""
        names = [f.name for f in self.plant.faults]
        try:
            return self.plant.fault(name)
        except KeyError:
            raise UnknownNameError(
                f"no fault mode {name!r} in plant {self.plant.name}",
                fix=f"use one of: {', '.join(names)}",
                suggestions=close_matches(name, names),
            ) from None

    def inject(self, fault: str, target: str, *, developed_s: float = 0.0) -> FaultStatus:
        """Start ``fault`` on ``target``; ``developed_s`` backdates its start (the fault
        has been developing that long already). Re-injecting keeps the original."""
        spec = self.lookup(fault)
        equipment, tag = self.resolve(spec, target)
        for f in self._faults:
            if f.spec.name == spec.name and f.equipment == equipment and f.tag == tag:
                return self._status(f)
        active = _Active(spec, equipment, tag, self.time_s - max(0.0, developed_s))
        if spec.name == "instrument.stuck" and tag is not None:
            last = self._sensors.last.get(tag)
            self._sensors.freeze(tag, last if last is not None else self.true_values()[tag])
        self._faults.append(active)
        return self._status(active)

    def clear(self, target: str = "*") -> list[FaultStatus]:
        """Clear the faults on ``target`` (equipment id or tag; "" or "*": all)."""
        if target in ("", "*"):
            gone = list(self._faults)
        else:
            tag = self._find_tag(target)
            key = tag.key if tag is not None else target
            if tag is None and target not in self.plant.equipment_by_id():
                names = list(self.plant.equipment_by_id())
                raise UnknownNameError(
                    f"no equipment {target!r} in plant {self.plant.name}",
                    fix=f"use one of: {', '.join(names)}, or * for all",
                    suggestions=close_matches(target, names + list(self._tags)),
                )
            gone = [f for f in self._faults if key in (f.equipment, f.tag)]
        for f in gone:
            self._faults.remove(f)
            if f.tag is not None and f.spec.name == "instrument.stuck":
                self._sensors.unfreeze(f.tag)
        return [self._status(f) for f in gone]

    def active_faults(self) -> list[FaultStatus]:
        """The faults in effect now, with their current severity."""
        return [self._status(f) for f in self._faults]

    def _status(self, f: _Active) -> FaultStatus:
        return FaultStatus(f.spec.name, f.equipment, f.tag, f.started_s,
                           round(f.severity(self.time_s), 4))
