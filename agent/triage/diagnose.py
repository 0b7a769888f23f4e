"""Deterministic diagnosis: match tag behaviour against fault signatures and sensor rules.

Each candidate cause gets the evidence for and against it and a confidence in [0, 1]:
the weighted share of its symptoms seen, halved when its required symptom is missing and
reduced by symptoms that speak against it. Instrument faults are checked first: a frozen
or lone drifting transmitter is reported as an instrument fault, never as a process fault.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agent.triage.evidence import EvidenceBook
from agent.triage.features import TagFeatures
from agent.triage.models import Candidate
from agent.triage.signatures import SIGNATURES, Signature, Symptom

#: A lone tag moving this much (share of range) with its equipment steady looks like drift.
DRIFT_FRACTION = 0.08
#: Variables that rise alone early in a real fault (vibration leads bearing wear by hours),
#: so alone they are weaker evidence of a drifting transmitter.
LEADING_INDICATORS = frozenset({"Vibration"})


@dataclass(frozen=True)
class PlantView:
    """The part of the plant a diagnosis looks at."""

    features: Mapping[str, TagFeatures]
    equipment_tags: Mapping[str, Sequence[str]]
    coupling: Mapping[str, Sequence[str]]
    units: Mapping[str, str | None]

    def find(self, equipment: str, variable: str, scope: str) -> list[TagFeatures]:
        """Features of ``variable`` on the equipment itself or on its coupled equipment."""
        owners = [equipment] if scope == "self" else list(self.coupling.get(equipment, ()))
        out = []
        for eq in owners:
            f = self.features.get(f"{eq}.{variable}")
            if f is not None:
                out.append(f)
        return out


def _match(view: PlantView, sig: Signature, equipment: str, book: EvidenceBook) -> Candidate:
    got = total = 0.0
    evidence_for: list[str] = []
    evidence_against: list[str] = []
    required_ok = True
    for sym in sig.symptoms:
        seen = view.find(equipment, sym.variable, sym.scope)
        if not seen:
            continue  # not measured here: neither for nor against
        total += sym.weight
        hit = [f for f in seen if f.direction == sym.direction]
        if hit:
            got += sym.weight
            evidence_for += [book.tag_history(f, view.units.get(f.tag)) for f in hit]
        else:
            if sym.required:
                required_ok = False
            evidence_against += [book.tag_history(f, view.units.get(f.tag)) for f in seen]
    penalty = 0.0
    for sym in sig.against:
        for f in view.find(equipment, sym.variable, sym.scope):
            if f.direction == sym.direction:
                penalty += 0.25 * sym.weight
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


def _applies(view: PlantView, sig: Signature, equipment: str) -> bool:
    req = [s for s in sig.symptoms if s.required] or list(sig.symptoms[:1])
    return all(view.find(equipment, s.variable, s.scope) for s in req)


def _sensor_candidates(view: PlantView, book: EvidenceBook) -> list[Candidate]:
    out: list[Candidate] = []
    for eq, tags in view.equipment_tags.items():
        feats = [view.features[t] for t in tags if t in view.features]
        frozen = [f for f in feats if f.direction == "frozen"]
        live = [f for f in feats if f.direction != "frozen" and f.recent_std > 0]
        for f in frozen:
            # Everything frozen at once is a communication problem, not one transmitter.
            if not live:
                continue
            ids = [book.tag_history(f, view.units.get(f.tag))]
            ids += [book.tag_history(g, view.units.get(g.tag)) for g in live[:2]]
            out.append(Candidate(
                cause="stuck_sensor", equipment=eq, tag=f.tag, process_fault=False,
                confidence=0.9, evidence_for=ids,
                explanation=f"{f.tag} shows no variation while other tags of {eq} still vary",
            ))
        moved = [f for f in feats if f.direction in ("up", "down")]
        # Physically coupled tags: the equipment's own and those of coupled equipment.
        near = [view.features[t] for c in view.coupling.get(eq, ())
                for t in view.equipment_tags.get(c, ()) if t in view.features]
        near_moved = [f for f in near if f.direction in ("up", "down")]
        if len(moved) == 1 and not near_moved and len(feats) >= 3:
            f = moved[0]
            if abs(f.shift_span) >= DRIFT_FRACTION:
                steady = [g for g in feats if g.direction == "flat"]
                ids = [book.tag_history(f, view.units.get(f.tag))]
                ids += [book.tag_history(g, view.units.get(g.tag)) for g in steady[:3]]
                conf = min(0.85, 0.5 + 0.1 * len(steady))
                if f.tag.rsplit(".", 1)[-1] in LEADING_INDICATORS:
                    conf *= 0.6
                out.append(Candidate(
                    cause="sensor_drift", equipment=eq, tag=f.tag, process_fault=False,
                    confidence=round(conf, 3), evidence_for=ids,
                    explanation=f"{f.tag} diverges while the coupled tags of {eq} stay steady",
                ))
    return out


def diagnose(view: PlantView, book: EvidenceBook, *, limit: int = 5) -> list[Candidate]:
    """Ranked candidate causes, best first (at most ``limit``)."""
    candidates = _sensor_candidates(view, book)
    instrument_tags = {c.tag for c in candidates}
    for eq in view.equipment_tags:
        for sig in SIGNATURES:
            if _applies(view, sig, eq):
                c = _match(view, sig, eq, book)
                if c.confidence > 0.0:
                    candidates.append(c)
    # A process signature resting only on a faulty instrument is not a process fault.
    for c in candidates:
        if c.process_fault and instrument_tags:
            support = [e for e in book.items if e.id in c.evidence_for]
            if support and all(e.data.get("tag") in instrument_tags for e in support):
                c.confidence = round(c.confidence * 0.2, 3)
    candidates.sort(key=lambda c: (-c.confidence, c.cause, c.equipment))
    return candidates[:limit]


def symptom_words(sym: Symptom) -> str:
    """A symptom as words, e.g. 'Vibration up'."""
    return f"{sym.variable} {sym.direction}"
