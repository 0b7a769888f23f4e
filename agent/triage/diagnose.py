"""Deterministic diagnosis: match tag behaviour against the fault library by equipment
class and tag role, and the generic instrument rules.

Each candidate cause gets the evidence for and against it and a confidence in [0, 1]:
the weighted share of its symptoms seen, cut when its required symptom is missing and
reduced by symptoms that speak against it. Instrument faults are checked first: a frozen
or lone drifting transmitter is reported as an instrument fault, never as a process fault.
What a tag measures comes from the tag semantics (its role), which equipment class a
signature applies to from the equipment's class, never from a tag's or equipment's name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from agent.triage.evidence import EvidenceBook
from agent.triage.features import TagFeatures
from agent.triage.instrument_rules import flat_lines, out_of_range
from agent.triage.library import FaultLibrary, Signature, Symptom
from agent.triage.models import Candidate
from agent.twin.coupling.relations import Coupling
from agent.twin.semantics.records import TagSemantics

#: A machine's drive quantities are bound by physics (power = torque x speed, current
#: follows power): one of them moving with another is the machine, not a transmitter.
DRIVE_QUANTITIES = frozenset({"current", "power", "load", "torque", "speed", "frequency"})
#: A lone tag moving this much (share of range) with its equipment steady looks like drift.
DRIFT_FRACTION = 0.08
#: The share of a symptom's weight a reading earns that leans its way without having
#: moved yet (features.TagFeatures.lean).
PARTIAL = 0.5
#: A peer of an unexplained mover accounts for it only when it moved at least this share
#: of the mover's shift, each in its own units (range or noise): warmer outdoor air by a
#: fifth of its range does not account for a return water reading gone up by half its own.
PEER_SHARE = 0.5


@dataclass(frozen=True)
class PlantView:
    """The part of the plant a diagnosis looks at: features by tag, tags and class by
    equipment, each tag's semantics, the coupling and the fault library."""

    features: Mapping[str, TagFeatures]
    equipment_tags: Mapping[str, Sequence[str]]
    coupling: Coupling
    units: Mapping[str, str | None]
    semantics: Mapping[str, TagSemantics]
    classes: Mapping[str, str | None]
    library: FaultLibrary = field(default_factory=FaultLibrary)

    def find(self, equipment: str, sym: Symptom) -> list[TagFeatures]:
        """Features of the tags with the symptom's role on ``equipment`` itself or on the
        equipment its scope names (of the symptom's classes, when it names some)."""
        if sym.scope == "self":
            owners = [equipment]
        else:
            owners = [e for e in self.coupling.neighbours(equipment, sym.scope)
                      if not sym.on_class or self.classes.get(e) in sym.on_class]
        out = []
        for eq in owners:
            for tag in self.equipment_tags.get(eq, ()):
                sem = self.semantics.get(tag)
                f = self.features.get(tag)
                if f is not None and sem is not None and sym.matches(sem):
                    out.append(f)
        return out


def _match(view: PlantView, sig: Signature, equipment: str, book: EvidenceBook,
           explained: frozenset[str] = frozenset()) -> Candidate:
    """Score ``sig`` on ``equipment``; symptoms against it on tags in ``explained`` (the
    evidence of another strong cause) do not count against it."""
    got = total = 0.0
    evidence_for: list[str] = []
    evidence_against: list[str] = []
    required_ok = True
    main = _main_move(view, sig, equipment)
    for sym in sig.symptoms:
        seen = view.find(equipment, sym)
        if not seen:
            continue  # not measured here: neither for nor against
        total += sym.weight
        hit = [f for f in seen if f.direction == sym.direction]
        leaning = [f for f in seen if f.lean == sym.direction]
        if hit:
            got += sym.weight
            evidence_for += [book.tag_history(f, view.units.get(f.tag)) for f in hit]
        elif leaning and not sym.required:
            # On its way but not yet past the move threshold: half the symptom, and no
            # evidence against (a fault's second symptom often lags its first).
            got += PARTIAL * sym.weight
            evidence_for += [book.tag_history(f, view.units.get(f.tag)) for f in leaning]
        else:
            if sym.required:
                required_ok = False
            evidence_against += [book.tag_history(f, view.units.get(f.tag)) for f in seen]
    penalty = 0.0
    for sym in sig.against:
        for f in view.find(equipment, sym):
            # A neighbour's own symptom against this cause (the driven conveyor slowing
            # while its motor overloads) points at the neighbour: never explained away.
            if f.direction == sym.direction and (f.tag not in explained or sym.scope != "self"):
                penalty += 0.25 * sym.weight * _against_share(f, main)
                evidence_against.append(book.tag_history(f, view.units.get(f.tag)))
    score = got / total if total else 0.0
    if not required_ok:
        score *= 0.3
    score = max(0.0, min(1.0, score - penalty))
    return Candidate(
        cause=sig.cause, equipment=equipment, confidence=round(score, 3),
        evidence_for=list(dict.fromkeys(evidence_for)),
        evidence_against=list(dict.fromkeys(evidence_against)),
        explanation=sig.title,
    )


def _main_move(view: PlantView, sig: Signature, equipment: str) -> float:
    """How far the cause's main symptom (its required one, else its heaviest) moved its
    way, as a share of its range: the largest such move of its readings (0: none)."""
    main = [s for s in sig.symptoms if s.required] or sorted(
        sig.symptoms, key=lambda s: -s.weight)[:1]
    return max((abs(f.shift_span) for s in main for f in view.find(equipment, s)
                if f.direction == s.direction), default=0.0)


def _against_share(f: TagFeatures, main: float) -> float:
    """The share of its weight a counter-symptom that moved takes off: all of it when it
    moved at least as far as the cause's main symptom (each in its own range's share),
    less in proportion when it moved less, so a small move of a side reading (the outdoor
    air warming a little) cannot outweigh a large move of the main one (the tower fan
    running up by half its range)."""
    if main <= 0.0:
        return 1.0
    return min(1.0, abs(f.shift_span) / main)


def _applies(view: PlantView, sig: Signature, equipment: str) -> bool:
    req = [s for s in sig.symptoms if s.required] or list(sig.symptoms[:1])
    return all(view.find(equipment, s) for s in req)


def _measured(view: PlantView, tag: str) -> bool:
    sem = view.semantics.get(tag)
    return sem is None or (sem.function == "measurement" and sem.quantity not in (
        "state", "output"))


def _sensor_candidates(view: PlantView, book: EvidenceBook) -> list[Candidate]:
    """The generic instrument rules of the library (out of range, flat line, stuck,
    drift) on every equipment."""
    out: list[Candidate] = []
    stuck = view.library.instrument("stuck")
    drift = view.library.instrument("drift")
    for eq, tags in view.equipment_tags.items():
        # Only transmitters fail as transmitters: a setpoint, a controller output or a
        # state is written by someone, and a constant setpoint is no frozen sensor.
        feats = [view.features[t] for t in tags if t in view.features and _measured(view, t)]
        # A reading no instrument of its kind can give, or one that never changed while
        # its equipment moved, is its transmitter; it is no symptom of anything else.
        broken = out_of_range(view, book, eq, feats) + flat_lines(view, book, eq, feats)
        out += broken
        feats = [f for f in feats if f.tag not in {c.tag for c in broken}]
        frozen = [f for f in feats if f.direction == "frozen"]
        live = [f for f in feats if f.direction != "frozen" and f.recent_std > 0]
        for f in frozen if stuck is not None else ():
            # Everything frozen at once is a communication problem, not one transmitter.
            if not live:
                continue
            ids = [book.tag_history(f, view.units.get(f.tag))]
            ids += [book.tag_history(g, view.units.get(g.tag)) for g in live[:2]]
            out.append(Candidate(
                cause=stuck.cause if stuck else "", equipment=eq, tag=f.tag,
                process_fault=False, confidence=0.9, evidence_for=ids,
                explanation=f"{f.tag} shows no variation while other tags of {eq} still vary",
            ))
        if drift is None:
            continue
        moved = [f for f in feats if f.direction in ("up", "down")]
        # Physically coupled tags: the equipment's own and those of coupled equipment.
        near = [view.features[t] for c in view.coupling.neighbours(eq)
                for t in view.equipment_tags.get(c, ()) if t in view.features]
        near_moved = [f for f in near if f.direction in ("up", "down")]
        if len(moved) == 1 and not near_moved and len(feats) >= 2 and len(feats) + len(
                near) >= 3:
            f = moved[0]
            if abs(f.shift_span) >= DRIFT_FRACTION and not _process_follows(view, eq, f):
                steady = [g for g in feats if g.direction == "flat"]
                steady_near = [g for g in near if g.direction == "flat"]
                ids = [book.tag_history(f, view.units.get(f.tag))]
                ids += [book.tag_history(g, view.units.get(g.tag))
                        for g in (steady + steady_near)[:3]]
                conf = min(0.85, 0.5 + 0.1 * len(steady) + 0.05 * len(steady_near))
                sem = view.semantics.get(f.tag)
                if sem is not None and sem.quantity in drift.leading_quantities:
                    conf *= 0.6
                out.append(Candidate(
                    cause=drift.cause, equipment=eq, tag=f.tag, process_fault=False,
                    confidence=round(conf, 3), evidence_for=ids,
                    explanation=f"{f.tag} diverges while the coupled tags of {eq} stay steady",
                ))
        else:
            out += _unexplained_movers(view, book, eq, moved, near)
    return out


def _process_follows(view: PlantView, eq: str, f: TagFeatures) -> bool:
    """True when readings bound to a lone mover lean with it, so the process moves and
    not only its transmitter: another drive quantity of the equipment the same way
    (current and power), or another symptom of a fault of the equipment's class that
    moves the mover so (a filter's flow easing off as its pressure drop climbs)."""
    sem = view.semantics.get(f.tag)
    if sem is None:
        return False
    own = [view.features[t] for t in view.equipment_tags.get(eq, ()) if t in view.features]
    if sem.quantity in DRIVE_QUANTITIES and any(
            g.tag != f.tag and g.lean == f.direction
            and (gs := view.semantics.get(g.tag)) is not None
            and gs.quantity in DRIVE_QUANTITIES for g in own):
        return True
    for sig in view.library.for_class(view.classes.get(eq)):
        if not any(s.direction == f.direction and s.matches(sem) for s in sig.symptoms):
            continue
        # Only the equipment's own readings: a coupled loop's controller wanders on its
        # own and would hide every drifting transmitter next to it.
        for other in (s for s in sig.symptoms if s.scope == "self"):
            if any(g.tag != f.tag and g.lean == other.direction
                   for g in view.find(eq, other)):
                return True
    return False


def _unexplained_movers(view: PlantView, book: EvidenceBook, eq: str,
                        moved: Sequence[TagFeatures], near: Sequence[TagFeatures]
                        ) -> list[Candidate]:  # fmt: skip
    """A reading that moves in a way no fault of its equipment's class makes, while every
    other reading of the same quantity on the equipment and around it holds still (a
    chiller's return water 'warming' with its supply, condenser and tower temperatures
    steady), is its transmitter: drift, with less confidence than a lone mover."""
    drift = view.library.instrument("drift")
    if drift is None:
        return []
    signatures = view.library.for_class(view.classes.get(eq))
    own = [view.features[t] for t in view.equipment_tags.get(eq, ()) if t in view.features]
    out = []
    for f in moved:
        sem = view.semantics.get(f.tag)
        if sem is None or abs(f.shift_span) < DRIFT_FRACTION:
            continue
        if any(sym.direction == f.direction and sym.matches(sem)
               for sig in signatures for sym in sig.symptoms):
            continue  # a fault of this class moves it so: the signatures decide
        if sem.quantity in DRIVE_QUANTITIES and any(
                g.tag != f.tag and g.lean == f.direction
                and (gs := view.semantics.get(g.tag)) is not None
                and gs.quantity in DRIVE_QUANTITIES for g in own):
            continue  # a drive's current, power and torque move together: the process
        peers = [g for g in [*own, *near] if g.tag != f.tag and _measured(view, g.tag)
                 and (ps := view.semantics.get(g.tag)) is not None
                 and ps.quantity == sem.quantity]
        if len(peers) < 2 or any(_comparable(g, f) for g in peers):
            continue
        ids = [book.tag_history(f, view.units.get(f.tag))]
        ids += [book.tag_history(g, view.units.get(g.tag)) for g in peers[:3]]
        out.append(Candidate(
            cause=drift.cause, equipment=eq, tag=f.tag, process_fault=False,
            confidence=round(min(0.75, 0.5 + 0.05 * len(peers)), 3), evidence_for=ids,
            explanation=f"{f.tag} moves as no fault of its equipment does, while the other "
            f"{(sem.quantity or '').replace('_', ' ')} readings around it stay steady"))
    return out


def _noise_units(f: TagFeatures) -> float:
    """A reading's shift in standard deviations of its baseline (infinite for a reading
    without noise that moved)."""
    if f.base_std > 0.0:
        return abs(f.shift) / f.base_std
    return math.inf if f.shift else 0.0


def _comparable(peer: TagFeatures, mover: TagFeatures) -> bool:
    """True when ``peer`` moved comparably far to ``mover``, so the process moved around
    it: it moved at least PEER_SHARE of the mover's shift in range units, or it leans
    at least PEER_SHARE of the mover's shift in noise units (the tower's water warming
    as far out of its noise as the wet bulb is out of its own). A side reading moving a
    fraction of a transmitter's drift does not account for it."""
    if peer.direction in ("up", "down") and abs(peer.shift_span) >= PEER_SHARE * abs(
            mover.shift_span):
        return True
    return peer.lean in ("up", "down") and _noise_units(peer) >= PEER_SHARE * _noise_units(
        mover)


def _tags_of(book: EvidenceBook, ids: Sequence[str]) -> set[str]:
    return {str(e.data["tag"]) for e in book.items if e.id in ids and "tag" in e.data}


def diagnose(view: PlantView, book: EvidenceBook, *, limit: int = 5,
             strong: float = 0.45) -> list[Candidate]:
    """Ranked candidate causes, best first (at most ``limit``).

    Two faults at once: a symptom that speaks against one cause but is explained by
    another strong cause (the filter's clogging lowers the pump's flow, which alone would
    argue against bearing wear) is not held against it, so both can be found.
    """
    candidates = _sensor_candidates(view, book)
    instrument_tags = {c.tag for c in candidates}
    matched: list[tuple[Signature, str, Candidate]] = []
    for eq in view.equipment_tags:
        for sig in view.library.for_class(view.classes.get(eq)):
            if _applies(view, sig, eq):
                matched.append((sig, eq, _match(view, sig, eq, book)))
    firm = [c for _, _, c in matched if c.confidence >= strong] + [
        c for c in candidates if c.confidence >= strong]
    for i, (sig, eq, c) in enumerate(matched):
        if c.evidence_against:
            # Only another equipment's fault explains a symptom away: a cause on the same
            # equipment (a stuck feed valve for a falling tank level) competes with this
            # one for the same symptoms instead.
            others = [o for o in firm if o.equipment != c.equipment]
            explained = frozenset(
                _tags_of(book, [ev for o in others for ev in o.evidence_for])
                - _tags_of(book, c.evidence_for))
            if explained:
                matched[i] = (sig, eq, _match(view, sig, eq, book, explained))
    candidates += [c for _, _, c in matched if c.confidence > 0.0]
    # A process signature resting only on a faulty instrument is not a process fault.
    for c in candidates:
        if c.process_fault and instrument_tags:
            support = [e for e in book.items if e.id in c.evidence_for]
            if support and all(e.data.get("tag") in instrument_tags for e in support):
                c.confidence = round(c.confidence * 0.2, 3)
    candidates.sort(key=lambda c: (-c.confidence, c.cause, c.equipment))
    return candidates[:limit]


def concurrent_causes(candidates: Sequence[Candidate], *, strong: float = 0.45) -> list[
        Candidate]:
    """The top candidate, then every other strong candidate on other equipment (or an
    instrument fault beside a process fault) whose supporting evidence the causes before
    it do not already mostly hold: independent faults in one incident, each reported on
    its own."""
    out: list[Candidate] = []
    held: set[str] = set()
    for c in candidates:
        if c.confidence < strong:
            break
        target = c.tag or c.equipment
        same = [o for o in out if (o.tag or o.equipment) == target or (
            o.equipment == c.equipment and o.process_fault == c.process_fault)]
        # Independent means its own evidence: a cause whose symptoms are mostly those of
        # a cause before it (a motor overloaded by the conveyor it drives jamming) is a
        # consequence of that cause, not a second fault.
        own = set(c.evidence_for) - held
        if out and (same or len(own) * 2 <= len(set(c.evidence_for))):
            continue
        out.append(c)
        held |= set(c.evidence_for)
    return out


def symptom_words(sym: Symptom) -> str:
    """A symptom as words, e.g. 'vibration up'."""
    return sym.words()
