"""Where the rules cannot decide: the embedding model (all-MiniLM-L6-v2) picks the
nearest prototype sentence of a quantity or an equipment class, only with a margin over
the second nearest, and says so in the reason. Used by the sync for the tags and
equipment the rules left unresolved; the site file still wins over it."""

from __future__ import annotations

import numpy as np

from agent.twin.embeddings.runtime import Embedder
from agent.twin.semantics.records import RESOLVED, PlantSemantics
from tools.opcua.catalog import Catalog

#: Prototype sentences per quantity (several wordings each; the best one counts).
QUANTITY_PROTOTYPES: dict[str, tuple[str, ...]] = {
    "temperature": ("temperature measurement in degrees", "bearing temperature",
                    "water temperature"),
    "pressure": ("pressure measurement in bar", "discharge pressure"),
    "differential_pressure": ("differential pressure across a filter", "pressure drop"),
    "flow": ("flow rate in cubic metres per hour", "water flow"),
    "level": ("tank level", "liquid level in a vessel"),
    "vibration": ("vibration velocity of a machine", "bearing vibration"),
    "current": ("electric motor current in amperes",),
    "speed": ("rotational speed of a shaft", "fan speed"),
    "power": ("electrical power in kilowatts",),
    "position": ("valve position opening", "damper position"),
    "output": ("controller output signal",),
    "concentration": ("chemical concentration measured by an analyser", "chlorine residual",
                      "pH value"),
    "state": ("running status on or off", "alarm state"),
}
#: Prototype sentences per equipment class.
CLASS_PROTOTYPES: dict[str, tuple[str, ...]] = {
    "pump": ("centrifugal pump", "water pump"),
    "fan": ("fan blowing air", "supply fan"),
    "compressor": ("air compressor", "refrigerant compressor"),
    "motor": ("electric drive motor",),
    "filter": ("filter or strainer", "filter screen"),
    "heat_exchanger": ("heat exchanger", "plate cooler"),
    "tank": ("storage tank", "water reservoir"),
    "conveyor": ("belt conveyor",),
    "valve": ("control valve",),
    "cooling_tower": ("cooling tower",),
    "chiller": ("water chiller",),
    "boiler": ("steam boiler",),
    "dosing_skid": ("chemical dosing pump skid",),
    "air_handler": ("air handling unit",),
}
#: The nearest prototype must beat the next label by this much cosine similarity.
MARGIN = 0.05


def _nearest(vector: np.ndarray, labels: list[str], protos: np.ndarray
             ) -> tuple[str, float, str, float]:
    scores = protos @ vector
    best: dict[str, float] = {}
    for label, score in zip(labels, scores, strict=True):
        best[label] = max(best.get(label, -1.0), float(score))
    ranked = sorted(best.items(), key=lambda kv: -kv[1])
    (first, s1), (second, s2) = ranked[0], ranked[1]
    return first, s1, second, s2


def _prototypes(embedder: Embedder, table: dict[str, tuple[str, ...]]
                ) -> tuple[list[str], np.ndarray]:
    labels = [k for k, texts in table.items() for _ in texts]
    texts = [t for texts in table.values() for t in texts]
    return labels, embedder.embed(texts)


def resolve_with_embeddings(semantics: PlantSemantics, catalog: Catalog,
                            embedder: Embedder, margin: float = MARGIN) -> int:
    """Decide the quantity of unresolved tags and the class of unclassified equipment
    that have words the rules did not know; returns how many were decided."""
    tags = [t for t in semantics.tags.values()
            if (t.quantity is None or t.confidence < RESOLVED)
            and (catalog.tags[t.tag].description or "").strip()]
    equipment = [e for e in semantics.equipment.values()
                 if (e.eq_class is None or e.confidence < RESOLVED) and e.source != "site"]
    if not tags and not equipment:
        return 0
    decided = 0
    name = getattr(embedder, "model_name", "embedding model")
    if tags:
        labels, protos = _prototypes(embedder, QUANTITY_PROTOTYPES)
        vectors = embedder.embed([catalog.tags[t.tag].description or "" for t in tags])
        for sem, vector in zip(tags, vectors, strict=True):
            first, s1, second, s2 = _nearest(vector, labels, protos)
            if s1 - s2 >= margin:
                sem.quantity, sem.confidence = first, round(min(0.7, RESOLVED + s1 - s2), 2)
                sem.reasons.append(f"{name}: nearest prototype {first} (cosine {s1:.2f}; "
                                   f"next {second} {s2:.2f})")
                decided += 1
            else:
                sem.reasons.append(f"{name}: {first} {s1:.2f} and {second} {s2:.2f} too "
                                   "close to decide")
    if equipment:
        labels, protos = _prototypes(embedder, CLASS_PROTOTYPES)
        texts = [" ".join([e.name, *(catalog.tags[t].description or "" for t in e.tags
                                     if t in catalog.tags)])[:400] for e in equipment]
        vectors = embedder.embed(texts)
        for eq, vector in zip(equipment, vectors, strict=True):
            first, s1, second, s2 = _nearest(vector, labels, protos)
            if s1 - s2 >= margin:
                eq.eq_class, eq.confidence = first, round(min(0.7, RESOLVED + s1 - s2), 2)
                eq.reasons.append(f"{name}: nearest prototype {first} (cosine {s1:.2f}; "
                                  f"next {second} {s2:.2f})")
                decided += 1
    return decided
