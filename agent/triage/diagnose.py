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


def _match(view: PlantView, sig: Signature, equipment: str, book: EvidenceBook,
           explained: frozenset[str] = frozenset()) -> Candidate:
    """Score ``sig`` on ``equipment``; symptoms against it on tags in ``explained`` (the
    evidence of another strong cause) do not count against it."""
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
            if f.direction == sym.direction and f.tag not in explained:
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
        for sig in SIGNATURES:
            if _applies(view, sig, eq):
                matched.append((sig, eq, _match(view, sig, eq, book)))
    firm = [c for _, _, c in matched if c.confidence >= strong] + [
        c for c in candidates if c.confidence >= strong]
    for i, (sig, eq, c) in enumerate(matched):
        if c.evidence_against:
            others = [o for o in firm if (o.cause, o.equipment) != (c.cause, c.equipment)]
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
    it do not already hold: independent faults in one incident, each reported on its own."""
    out: list[Candidate] = []
    held: set[str] = set()
    for c in candidates:
        if c.confidence < strong:
            break
        target = c.tag or c.equipment
        same = [o for o in out if (o.tag or o.equipment) == target or (
            o.equipment == c.equipment and o.process_fault == c.process_fault)]
        if out and (same or set(c.evidence_for) <= held):
            continue
        out.append(c)
        held |= set(c.evidence_for)
    return out


def symptom_words(sym: Symptom) -> str:
    """A symptom as words, e.g. 'Vibration up'."""
    return f"{sym.variable} {sym.direction}"
