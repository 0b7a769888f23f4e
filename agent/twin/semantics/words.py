"""Finding the vocabulary's words in a text: multi-word phrases first, whole words, then
stems inside compounds ('Kühlwasserpumpe' holds 'pumpe', 'Lagertemperatur' holds 'lager'
and 'temperatur'), the longest first, without overlaps."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from agent.twin.semantics.vocabulary import (
    CLASS_INDEX,
    FUNCTION_INDEX,
    PLACE_INDEX,
    QUANTITY_INDEX,
    tokens,
)

Kind = str  # "quantity" | "place" | "function" | "class"
_INDEXES: dict[Kind, dict[str, str]] = {
    "quantity": QUANTITY_INDEX,
    "place": PLACE_INDEX,
    "function": FUNCTION_INDEX,
    "class": CLASS_INDEX,
}
#: Stems shorter than this count only as whole words ('out' is not in 'outdoor').
MIN_STEM = 5
_MAX_PHRASE = 4


@dataclass(frozen=True)
class Hit:
    """One vocabulary word found: its kind, the canonical key, where (token index, and the
    order inside a compound), and the word as written."""

    kind: Kind
    key: str
    position: float
    word: str


def _meanings(word: str) -> list[tuple[Kind, str]]:
    return [(kind, index[word]) for kind, index in _INDEXES.items() if word in index]


@lru_cache(maxsize=1)
def _stems() -> list[str]:
    words = {w for index in _INDEXES.values() for w in index if " " not in w}
    # A plural is only a whole word: 'motors' must not eat the 's' of 'Motorstrom'.
    words = {w for w in words if not (w.endswith("s") and w[:-1] in words)}
    return sorted((w for w in words if len(w) >= MIN_STEM), key=len, reverse=True)


def _inside(token: str) -> list[tuple[int, str]]:
    """Stems inside one compound token, longest first, not overlapping: (offset, stem)."""
    taken = [False] * len(token)
    found: list[tuple[int, str]] = []
    for stem in _stems():
        start = token.find(stem)
        while start >= 0:
            if not any(taken[start:start + len(stem)]):
                taken[start:start + len(stem)] = [True] * len(stem)
                found.append((start, stem))
            start = token.find(stem, start + 1)
    return sorted(found)


def scan(text: str, *, camel: bool = True) -> list[Hit]:
    """Every vocabulary word in ``text``, in order of appearance."""
    toks = tokens(text, camel=camel)
    hits: list[Hit] = []
    i = 0
    while i < len(toks):
        for n in range(min(_MAX_PHRASE, len(toks) - i), 0, -1):
            phrase = " ".join(toks[i:i + n])
            meanings = _meanings(phrase)
            if meanings:
                hits += [Hit(kind, key, float(i), phrase) for kind, key in meanings]
                i += n
                break
        else:
            token = toks[i]
            parts = _inside(token)
            for offset, stem in parts:
                pos = i + offset / (len(token) + 1)
                hits += [Hit(kind, key, pos, stem) for kind, key in _meanings(stem)]
            i += 1
    return _places_before_quantities(hits)


def _places_before_quantities(hits: list[Hit]) -> list[Hit]:
    """'Motor current' names a place on the equipment, not a motor: a word that can be
    either a class or a place is a place when a quantity follows it directly."""
    out: list[Hit] = []
    for hit in hits:
        if hit.kind == "class" and any(h.kind == "place" and h.position == hit.position
                                       for h in hits):
            later = [h for h in hits if h.position > hit.position]
            if later and later[0].kind in ("quantity", "place"):
                continue
        out.append(hit)
    return out


def first(hits: list[Hit], kind: Kind) -> Hit | None:
    """The first hit of ``kind``."""
    return next((h for h in hits if h.kind == kind), None)


def keys(hits: list[Hit], kind: Kind) -> list[str]:
    """The keys of ``kind`` in order, without repeats."""
    return list(dict.fromkeys(h.key for h in hits if h.kind == kind))
