"""Questions mapped to tags through the twin's tag semantics, not through tag names.

A question names quantities ("bearing temperature", "Durchfluss", "débit"), places,
setpoints, equipment classes ("pumps", "Pumpe 2") and other words ("chilled", "raw
water"); each clause is matched against every tag's quantity, places, function and
words, within the equipment the clause (or an earlier one) names. Ties are kept: two
tags that look alike are both read, never one picked silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.twin.semantics.infer import cached
from agent.twin.semantics.records import EquipmentSemantics, PlantSemantics, TagSemantics
from agent.twin.semantics.vocabulary import (
    CLASS_INDEX,
    FUNCTION_INDEX,
    PLACE_INDEX,
    QUANTITY_INDEX,
    STOP_WORDS,
    normalise,
    tokens,
)
from agent.twin.semantics.words import keys, scan
from tools.opcua.catalog import Catalog

#: Question words (not description words) that name a quantity.
QUESTION_QUANTITIES = {
    "full": "level", "hot": "temperature", "warm": "temperature", "cold": "temperature",
    "rate": "flow", "much": "flow", "fast": "speed", "voll": "level",
    "rempli": "level", "lleno": "level", "vibrating": "vibration", "amperage": "current",
}
#: Words of questions that say nothing about which tag.
QUESTION_WORDS = frozenset({
    "what", "which", "is", "are", "was", "were", "the", "how", "now", "current", "currently",
    "right", "value", "reading", "compare", "between", "both", "two", "our", "we", "do",
    "does", "have", "has", "there", "any", "please", "tell", "me", "show", "give", "it",
    "its", "their", "coming", "going", "into", "out", "highest", "lowest", "average", "mean",
    "last", "over", "ago", "minutes", "minute", "hour", "hours", "within", "limits", "limit",
    "rising", "falling", "trend", "wie", "ist", "sind", "welche", "welcher", "hoch",
    "aktuell", "quel", "quelle", "est", "cual", "es", "son", "max", "min", "maximum",
    "minimum", "sensors", "sensor", "alarms", "alarm", "active", "outside", "inside",
    "water", "wasser", "eau", "agua",
})
#: Words (EN/DE/FR/ES) asking which equipment of a kind there is, or what it measures.
ASSET_WORDS = frozenset({"which", "what", "list", "welche", "liste", "quels", "quelles",
                         "cuales", "que"})
SENSOR_WORDS = frozenset({"sensors", "sensor", "measurements", "instruments", "tags",
                          "signals", "sensoren", "messstellen", "messwerte", "capteurs",
                          "sensores", "measure", "measures"})
#: How many words may stand between a class word and its number ('pompe d'eau brute 1').
_QUALIFIER_SPAN = 4
_TIME_UNITS = frozenset({"min", "mins", "minute", "minutes", "minuten", "minutos", "h", "hour",
                         "hours", "stunde", "stunden", "heure", "heures", "hora", "horas",
                         "s", "sec", "seconds", "sekunden", "secondes", "segundos", "day",
                         "days", "tage", "jours", "dias"})
_TIME_WORDS = frozenset({"last", "past", "over", "since", "ago", "letzten", "letzte", "seit",
                         "vor", "dernieres", "derniere", "depuis", "ultimos", "ultima",
                         "ultimas", "ultimo", "hace", "desde", "in", "en", "dans"})
_CLAUSE = re.compile(r",|;|\s(?:and|und|et|y|as well as|sowie)\s", re.IGNORECASE)
_NUM = re.compile(r"^\d+$")


def semantics_of(catalog: Catalog) -> PlantSemantics:
    """The catalog's semantics (inferred once per catalog object and size)."""
    return cached(catalog)


@dataclass
class Clause:
    """What one clause of a question names."""

    text: str
    quantities: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    numbers: set[str] = field(default_factory=set)
    words: set[str] = field(default_factory=set)
    #: The words that named each quantity ('turbidity' for concentration).
    quantity_words: dict[str, set[str]] = field(default_factory=dict)


def read_clause(text: str) -> Clause:
    """The quantities, places, functions, classes, numbers and other words of a clause."""
    hits = scan(text, camel=False)
    # "The current bearing temperature": 'current' before another quantity or place is
    # the adjective (now), not the electric current.
    hits = [h for i, h in enumerate(hits)
            if not (h.kind == "quantity" and h.word == "current" and i + 1 < len(hits)
                    and hits[i + 1].kind in ("quantity", "place"))]
    toks = tokens(text, camel=False)
    quantities = keys(hits, "quantity")
    quantities += [QUESTION_QUANTITIES[t] for t in toks
                   if t in QUESTION_QUANTITIES and QUESTION_QUANTITIES[t] not in quantities]
    vocab = set(QUANTITY_INDEX) | set(PLACE_INDEX) | set(FUNCTION_INDEX) | set(CLASS_INDEX)
    words = {t for t in toks if t not in STOP_WORDS and t not in QUESTION_WORDS
             and t not in vocab and not _NUM.match(t) and len(t) > 2}
    named: dict[str, set[str]] = {}
    numbers: set[str] = set()
    for h in hits:
        if h.kind == "quantity":
            named.setdefault(h.key, set()).add(h.word)
        if h.kind == "class":
            number = _class_number(toks, int(h.position) + len(h.word.split()))
            if number is not None:
                numbers.add(number)
    numbers = {n.lstrip("0") or "0" for n in numbers}
    return Clause(text=text, quantities=quantities, places=keys(hits, "place"),
                  functions=keys(hits, "function"), classes=keys(hits, "class"),
                  numbers=numbers, words=words,
                  quantity_words=named)


def _class_number(toks: list[str], after: int) -> str | None:
    """The number of the equipment a class word names: right after it ('pump 3', 'Pumpe
    2'), or after the words that qualify it in French and Spanish ('pompe d'eau brute 1',
    'bomba de agua cruda 2'); never a duration ('the pump over the last 30 minutes')."""
    for i in range(after, min(after + _QUALIFIER_SPAN + 1, len(toks))):
        token = toks[i]
        if _NUM.match(token):
            unit = toks[i + 1] if i + 1 < len(toks) else ""
            return None if unit in _TIME_UNITS else token
        if token in _TIME_WORDS or token in CLASS_INDEX:
            return None
    return None


def _name_pattern(name: str) -> re.Pattern[str]:
    chunks = re.findall(r"[A-Za-z]+|[0-9]+", name)
    pattern = r"[\s_-]?".join(re.escape(c) for c in chunks)
    return re.compile(rf"(?<![A-Za-z0-9]){pattern}(?![0-9])", re.IGNORECASE)


def _numbers(eq: EquipmentSemantics) -> set[str]:
    return {t.lstrip("0") or "0" for t in tokens(eq.name, camel=False) if _NUM.match(t)}


def equipment_score(clause: Clause, eq: EquipmentSemantics) -> float:
    """How well a clause names an equipment: its name outright, or its class with a
    matching number and words of its name and description."""
    if re.search(r"[A-Za-z]", eq.name) and _name_pattern(eq.name).search(clause.text):
        return 10.0
    score = 0.0
    if eq.eq_class and eq.eq_class in clause.classes:
        score += 3.0
        mine = _numbers(eq)
        if clause.numbers and mine:
            score += 2.0 if clause.numbers & mine else -4.0
    overlap = clause.words & {normalise(w) for w in eq.words}
    score += 1.0 * len(overlap)
    return score


def named_equipment(clause: Clause, semantics: PlantSemantics) -> list[EquipmentSemantics]:
    """The equipment a clause names best (several when they tie: 'the two pumps')."""
    scored = [(equipment_score(clause, e), e) for e in semantics.equipment.values()]
    top = max((s for s, _ in scored), default=0.0)
    if top < 3.0:
        return []
    return [e for s, e in scored if s == top]


def tag_score(clause: Clause, sem: TagSemantics) -> float:
    """How well a clause names a tag: its quantity, places, function and words."""
    score = 0.0
    words = {normalise(w) for w in sem.words}
    if sem.quantity and sem.quantity in clause.quantities:
        score += 3.0
        said = clause.quantity_words.get("concentration", set())
        if sem.quantity == "concentration" and not ((clause.words | said) & words):
            # 'turbidity' is not 'chlorine residual': an analyser is named by its word.
            score -= 3.0
    score += 1.0 * len(set(clause.places) & set(sem.places))
    score -= 0.5 * len(set(sem.places) - set(clause.places) - {"motor"})
    asked = set(clause.functions)
    if sem.function in ("setpoint", "output"):
        score += 2.0 if sem.function in asked else -2.0
    score += 1.0 * len(clause.words & words)
    return score


def match_tags(clause: Clause, candidates: list[TagSemantics]) -> list[str]:
    """The candidates the clause names best (ties kept), or none."""
    if clause.quantities:
        # A quantity asked for must be the tag's quantity: 'CO2 in the supply air' is
        # not the supply air flow.
        candidates = [t for t in candidates if t.quantity in clause.quantities]
    scored = [(tag_score(clause, t), t.tag) for t in candidates]
    top = max((s for s, _ in scored), default=0.0)
    if top < 2.0:
        return []
    return [t for s, t in scored if s == top]


@dataclass
class Mapping:
    """The tags a question asks about, per clause, and the equipment it names."""

    tags: list[str] = field(default_factory=list)
    equipment: list[EquipmentSemantics] = field(default_factory=list)
    #: Quantities asked for that no tag measures (the words of the question).
    unmatched_quantities: list[str] = field(default_factory=list)
    #: Equipment asked for by class and number that the plant does not have ('pump 3').
    missing_equipment: list[str] = field(default_factory=list)


def map_question(question: str, semantics: PlantSemantics) -> Mapping:
    """Every clause's tags: within the equipment it (or the clause before) names, else
    over the plant; a clause naming equipment but no quantity asks for the quantity of
    the clause before ('pump 1 and pump 2')."""
    out = Mapping()
    equipment: list[EquipmentSemantics] = []
    last: Clause | None = None
    whole = read_clause(question)
    clauses = [read_clause(p) for p in _CLAUSE.split(question) if p and p.strip()]
    for i, clause in enumerate(clauses):
        if clause.quantities or not (clause.places or clause.words):
            continue
        # 'supply and return temperatures', 'Vorlauf- und Rücklauftemperatur': a clause
        # with a place but no quantity takes the quantity of the next clause.
        # In French and Spanish the quantity comes first: 'pressions d'évaporateur et de
        # condenseur' — a clause with a place but none after takes the one before.
        nxt = next((c for c in clauses[i + 1:] if c.quantities), None)
        nxt = nxt or next((c for c in reversed(clauses[:i]) if c.quantities), None)
        if nxt is not None and clause.places:
            clause.quantities = nxt.quantities
            clause.quantity_words = nxt.quantity_words
    for clause in clauses:
        named = named_equipment(clause, semantics)
        if not named and (gone := _missing(clause, semantics)):
            out.missing_equipment += [g for g in gone if g not in out.missing_equipment]
            continue
        if named:
            equipment = named
            out.equipment += [e for e in named if e not in out.equipment]
        if not clause.quantities and last is not None and named:
            clause.quantities, clause.places = last.quantities, last.places
        if not clause.quantities and not clause.words:
            continue
        scope = [t for e in equipment for t in semantics.tags_of(e.name)]
        found: list[str] = []
        if scope:
            for eq in equipment:
                found += match_tags(clause, semantics.tags_of(eq.name))
        if not found and not named:
            found = match_tags(clause, list(semantics.tags.values()))
        if not found and clause.quantities and not (scope and not named):
            # 'Is P-101 running ...?': a state word is a verb as often as a tag.
            said = [w for q in clause.quantities if q != "state"
                    for w in sorted(clause.quantity_words.get(q, {q.replace("_", " ")}))]
            out.unmatched_quantities += [w for w in said if w not in out.unmatched_quantities]
        out.tags += [t for t in found if t not in out.tags]
        last = clause
    if not out.equipment:
        out.equipment = named_equipment(whole, semantics)
    return out


def _missing(clause: Clause, semantics: PlantSemantics) -> list[str]:
    """'pump 3' when the plant has pumps but none numbered 3."""
    out = []
    for cls in clause.classes:
        mine = semantics.of_class(cls)
        numbers = set().union(*(_numbers(e) for e in mine)) if mine else set()
        if mine and clause.numbers and numbers and not (clause.numbers & numbers):
            word = next((h.word for h in scan(clause.text, camel=False)
                         if h.kind == "class" and h.key == cls), cls)
            out += [f"{word} {n}" for n in sorted(clause.numbers)]
    return out


def asks_for_kind(question: str, semantics: PlantSemantics) -> str | None:
    """The equipment class a 'which pumps do we have?' question asks for, if any."""
    clause = read_clause(question)
    toks = set(tokens(question, camel=False))
    if not (toks & ASSET_WORDS) or not clause.classes or clause.quantities:
        return None
    if toks & SENSOR_WORDS:
        return None
    if named_equipment(clause, semantics) and clause.numbers:
        return None
    return clause.classes[0]


def asks_for_sensors(question: str, semantics: PlantSemantics) -> list[EquipmentSemantics]:
    """The equipment a 'which sensors does X have?' question is about, if any."""
    toks = set(tokens(question, camel=False))
    if not (toks & SENSOR_WORDS):
        return []
    return named_equipment(read_clause(question), semantics)
