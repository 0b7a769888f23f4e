"""The instrument rules that look at a reading alone, beside stuck and drift
(agent/triage/diagnose.py): a flat-lined transmitter and a reading outside anything its
instrument can measure. Both come from the recorded history and the tag's semantics
(quantity, unit, normal range), never from a tag's or equipment's name.

- flat line: the reading did not change at all over the whole window (not one noisy
  sample) while another reading of its equipment moved: the signal is lost, the process
  is not. Speed and frequency are left out: a drive holds them exactly.
- out of range: the reading is where no measurement of its kind can be (a level,
  vibration, speed or concentration below zero, a percentage past 0-100). A reading far
  beyond its normal range is not enough: a trip or a jam takes a process there in one
  step too, and the servers give no instrument range to tell a failed loop by.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.triage.evidence import EvidenceBook
from agent.triage.features import TagFeatures
from agent.triage.models import Candidate

if TYPE_CHECKING:
    from agent.triage.diagnose import PlantView

#: Quantities a drive or a controller holds exactly: a flat line there is no lost signal.
HELD_QUANTITIES = frozenset({"speed", "frequency"})
#: Quantities that cannot be negative, whatever the unit.
NON_NEGATIVE = frozenset({"concentration", "frequency", "level", "mass", "position", "speed",
                          "vibration", "volume"})
PERCENT_UNITS = frozenset({"%", "percent", "pct"})
#: Tolerance around a physical bound, as a share of the normal range (zero offsets).
BOUND_MARGIN = 0.02
FLAT_CONFIDENCE = 0.85
OUT_OF_RANGE_CONFIDENCE = 0.9


def _ids(view: PlantView, book: EvidenceBook, fs: list[TagFeatures]) -> list[str]:
    return [book.tag_history(f, view.units.get(f.tag)) for f in fs]


def flat_lines(view: PlantView, book: EvidenceBook, eq: str,
               feats: list[TagFeatures]) -> list[Candidate]:
    """Transmitters of ``eq`` flat over the whole window while another of its readings
    moved (``feats``: its measured readings)."""
    rule = view.library.instrument("flat_line")
    if rule is None:
        return []
    moved = [f for f in feats if f.direction in ("up", "down")]
    out = []
    for f in feats:
        sem = view.semantics.get(f.tag)
        if (f.direction != "flat" or f.window_range > 0.0 or f.points < 10 or not moved
                or (sem is not None and sem.quantity in HELD_QUANTITIES)):
            continue
        out.append(Candidate(
            cause=rule.cause, equipment=eq, tag=f.tag, process_fault=False,
            confidence=FLAT_CONFIDENCE, evidence_for=_ids(view, book, [f, *moved[:2]]),
            explanation=f"{f.tag} has not changed once over the window while "
            f"{', '.join(g.tag for g in moved[:2])} moved"))
    return out


def _impossible(view: PlantView, f: TagFeatures) -> str | None:
    """Why ``f``'s recent readings cannot be a measurement, or None. The recent mean and
    the last reading both: a machine stopped at zero reads around zero, noise and all."""
    sem = view.semantics.get(f.tag)
    span = (f.high - f.low) if f.low is not None and f.high is not None else None
    margin = BOUND_MARGIN * span if span else 0.0
    unit = (view.units.get(f.tag) or "").strip().lower()
    low_end, high_end = min(f.last, f.recent_mean), max(f.last, f.recent_mean)
    if sem is not None and sem.quantity in NON_NEGATIVE and high_end < -margin:
        return f"a {sem.quantity.replace('_', ' ')} cannot be negative"
    if unit in PERCENT_UNITS and (high_end < -BOUND_MARGIN * 100
                                  or low_end > 100 * (1 + BOUND_MARGIN)):
        return "a percentage outside 0-100"
    return None


def out_of_range(view: PlantView, book: EvidenceBook, eq: str,
                 feats: list[TagFeatures]) -> list[Candidate]:
    """Readings of ``eq`` where no measurement of their kind can be."""
    rule = view.library.instrument("out_of_range")
    if rule is None:
        return []
    out = []
    for f in feats:
        why = _impossible(view, f)
        if why is None:
            continue
        u = view.units.get(f.tag)
        out.append(Candidate(
            cause=rule.cause, equipment=eq, tag=f.tag, process_fault=False,
            confidence=OUT_OF_RANGE_CONFIDENCE, evidence_for=_ids(view, book, [f]),
            explanation=f"{f.tag} reads {f.last:.4g}{' ' + u if u else ''}: {why}"))
    return out
