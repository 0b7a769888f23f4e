"""Flow directions a plant's own descriptions state: "discharge to the strainer", "fed
from tank 2", "Zulauf zum Behälter 1", "alimenta el tanque 3", "outlet of the filter".

A description of one equipment's tag (or of the equipment) that puts a flow-direction
word before the name of another equipment says which way material flows between them.
The words are of the languages the tag semantics read (English, German, French,
Spanish); the equipment are named as the semantics name them (their name, or its end
when that still names one equipment only: "strainer" for "raw water strainer"). A phrase
naming no other equipment, or more than one equally, says nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

from agent.twin.semantics.records import PlantSemantics
from tools.opcua.catalog import Catalog

#: Words before a downstream equipment: this one feeds it.
TO_WORDS: tuple[str, ...] = (
    "to", "into", "feeds", "feeding", "inlet of", "inlet to", "upstream of", "before",
    "zum", "zur", "zu", "in den", "in die", "zulauf", "zulauf zum", "zulauf zur",
    "eintritt", "alimenta", "hacia", "entrada de", "entrada a", "vers", "alimente",
    "entree de", "entree du",
)
#: Words before an upstream equipment: it feeds this one.
FROM_WORDS: tuple[str, ...] = (
    "from", "fed by", "fed from", "supplied by", "supplied from", "outlet of",
    "downstream of", "after", "von", "vom", "aus", "ablauf", "ablauf von", "austritt",
    "desde", "procedente de", "alimentado por", "alimentada por", "salida de", "depuis",
    "alimente par", "sortie de", "sortie du",
)
#: Articles skipped between the direction word and the name.
ARTICLES = frozenset({"the", "a", "an", "der", "die", "das", "den", "dem", "des", "el",
                      "la", "los", "las", "le", "les", "l", "del", "al", "du"})
#: How many words after the direction word a name may start (articles and a class word
#: before a tag-like name: "to the tank TK 2").
REACH = 3

#: (words, "to" or "from"), longest first so "fed from" wins over "from".
_KEYS: list[tuple[tuple[str, ...], str]] = sorted(
    [(tuple(w.split()), "to") for w in TO_WORDS]
    + [(tuple(w.split()), "from") for w in FROM_WORDS], key=lambda k: -len(k[0]))


def _words(text: str) -> list[str]:
    """Lower-case ASCII words: umlauts spelled out, accents dropped, separators split
    ('Behälter_1' -> ['behaelter', '1'], 'K-17' -> ['k', '17'])."""
    text = text.lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.findall(r"[a-z]+|[0-9]+", text)


def equipment_names(semantics: PlantSemantics) -> dict[tuple[str, ...], set[str]]:
    """Every word sequence that names equipment, with the equipment it names: each name
    and each catalog name of one equipment only, and every end of them that still has a
    word in it ('strainer' of 'raw water strainer'; never a bare number)."""
    owners: dict[str, set[str]] = {}
    for e in semantics.equipment.values():
        for c in e.catalog_equipment:
            owners.setdefault(c, set()).add(e.name)
    out: dict[tuple[str, ...], set[str]] = {}
    for e in semantics.equipment.values():
        for spelling in [e.name] + [c for c in e.catalog_equipment if owners[c] == {e.name}]:
            words = _words(spelling)
            for i in range(len(words)):
                tail = tuple(words[i:])
                if any(w.isalpha() and w not in ARTICLES for w in tail):
                    out.setdefault(tail, set()).add(e.name)
    return out


def _named(words: Sequence[str], names: dict[tuple[str, ...], set[str]],
           own: str) -> str | None:
    """The one other equipment named within the first REACH words of ``words``, the
    earliest and longest name first; None when none or several do."""
    for start in range(min(REACH, len(words))):
        found: set[str] = set()
        longest = 0
        for name, eqs in names.items():
            n = len(name)
            if n < longest or tuple(words[start:start + n]) != name:
                continue
            if n > longest:
                found, longest = set(), n
            found |= eqs
        if longest:
            others = found - {own}
            # A name of this equipment itself ("flow to the tank" on the tank) says
            # nothing; a name two equipment share is ambiguous.
            return next(iter(others)) if len(others) == 1 and own not in found else None
    return None


def _key_at(words: Sequence[str], i: int) -> tuple[tuple[str, ...], str] | None:
    return next(((k, w) for k, w in _KEYS if tuple(words[i:i + len(k)]) == k), None)


def flow_pairs(text: str, own: str, names: dict[tuple[str, ...], set[str]]
               ) -> list[tuple[str, str]]:  # fmt: skip
    """(upstream, downstream) pairs one description of ``own`` (or of its tag) states."""
    words = _words(text)
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        hit = _key_at(words, i)
        if hit is None:
            i += 1
            continue
        key, way = hit
        i += len(key)
        # The name is looked for up to the next direction word only.
        end = next((j for j in range(i, len(words)) if _key_at(words, j)), len(words))
        other = _named(words[i:end], names, own)
        if other is not None:
            out.append((own, other) if way == "to" else (other, own))
    return out


def from_descriptions(semantics: PlantSemantics, catalog: Catalog
                      ) -> list[tuple[str, str]]:  # fmt: skip
    """(upstream, downstream) pairs of equipment the descriptions of their tags and of
    the equipment themselves state, each once, in catalog order."""
    texts = {c: d for c, e in catalog.equipment.items() if (d := e.description)}
    texts.update({t: d for t, info in catalog.tags.items() if (d := info.description)})
    return from_texts(semantics, texts)


def from_texts(semantics: PlantSemantics, descriptions: Mapping[str, str]
               ) -> list[tuple[str, str]]:  # fmt: skip
    """The same from descriptions keyed by catalog equipment and tag name (the asset
    model's records, or a catalog's)."""
    names = equipment_names(semantics)
    owners: dict[str, list[str]] = {}
    for e in semantics.equipment.values():
        for c in e.catalog_equipment:
            owners.setdefault(c, []).append(e.name)
    pairs: list[tuple[str, str]] = []
    for e in semantics.equipment.values():
        texts = [d for c in e.catalog_equipment if owners[c] == [e.name]
                 and (d := descriptions.get(c))]
        texts += [d for t in e.tags if (d := descriptions.get(t))]
        for text in texts:
            pairs += flow_pairs(text, e.name, names)
    return list(dict.fromkeys(pairs))
