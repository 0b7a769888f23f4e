"""Inferring one tag's quantity, place and function from every clue the server gives:
the description (any of the vocabularies' languages), the browse name, the ISA-5.1
letters of a loop tag, the engineering unit and the data type. Each clue votes with a
weight; the confidence is how strongly the clues that agree support the winner, lowered
by the clues that disagree. The reason names every clue."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from agent.twin.semantics.records import Function, TagSemantics
from agent.twin.semantics.vocabulary import (
    ISA_FIRST,
    ISA_FUNCTION,
    ISA_MODIFIED,
    ISA_TAG,
    LOOP_ITEMS,
    UNIT_ALSO,
    UNIT_QUANTITIES,
    tokens,
    unit_key,
)
from agent.twin.semantics.words import Hit, keys, scan
from tools.opcua.models import TagInfo

_ITEM_SPLIT = re.compile(r"[./]")
#: Capitals before a number that are generic item names, not ISA letters.
NOT_ISA = frozenset({"TAG", "VAR", "ITEM", "PNT", "DEV", "IO", "AI", "AO", "DI", "DO",
                     "CH", "CT", "AHU", "SP", "PV", "OUT"})


@dataclass(frozen=True)
class IsaTag:
    """A name read as an ISA-5.1 tag: 'PDI_2010' -> letters PDI, loop 2010."""

    letters: str
    loop: str
    quantity: str | None
    functions: tuple[str, ...]
    item: str | None

    def describe(self) -> str:
        """'PDI: differential pressure indicator'."""
        what = (self.quantity or "?").replace("_", " ")
        funcs = " ".join(self.functions)
        return f"ISA-5.1 {self.letters}: {what} {funcs}".strip()


def parse_isa(name: str) -> IsaTag | None:
    """Read a browse name ('TT_2034.PV', 'PT-2002/PV', 'VT2045B', 'FIC_3010') as an
    ISA-5.1 tag; None when it is not one (a number of at least two digits is needed)."""
    parts = _ITEM_SPLIT.split(name, maxsplit=1)
    head = parts[0]
    item = parts[1].lower() if len(parts) > 1 else None
    match = ISA_TAG.match(head)  # written in capitals, as loop tags are
    if match is None or match["letters"] in NOT_ISA:
        return None
    letters = match["letters"]
    first = letters[0]
    if first not in ISA_FIRST:
        return None
    quantity = ISA_MODIFIED.get(letters[:2]) or ISA_FIRST[first]
    rest = letters[2:] if letters[:2] in ISA_MODIFIED else letters[1:]
    if any(ch not in ISA_FUNCTION for ch in rest) or not rest:
        return None
    return IsaTag(letters, match["loop"], quantity,
                  tuple(ISA_FUNCTION[ch] for ch in rest), item)


def loop_object(name: str) -> IsaTag | None:
    """An object named as a control loop ('FIC_3010', 'LIC-4001'): ISA letters ending in a
    readout or controller letter; None for equipment numbers such as 'HX-101'."""
    isa = parse_isa(name)
    if isa is None or len(isa.letters) < 2 or isa.letters[-1] not in "CIT":
        return None
    return isa


class Votes:
    """Weighted votes of clues for one answer, with the reasons given."""

    def __init__(self) -> None:
        self.weight: dict[str, list[float]] = defaultdict(list)
        self.reasons: list[str] = []
        #: Clues that fit several answers (a unit's dimension): they support a winner they
        #: fit and count against one they do not, but choose only when nothing else does.
        self.fits: list[tuple[frozenset[str], str, float]] = []

    def fit(self, keys: frozenset[str], default: str, weight: float, reason: str) -> None:
        self.fits.append((keys, default, weight))
        self.reasons.append(reason)

    def add(self, key: str, weight: float, reason: str | None = None) -> None:
        self.weight[key].append(weight)
        if reason:
            self.reasons.append(reason)

    def winner(self) -> tuple[str | None, float]:
        if not self.weight and not self.fits:
            return None, 0.0
        totals = {k: sum(w) for k, w in self.weight.items()}
        if not totals:
            keys, default, weight = max(self.fits, key=lambda f: f[2])
            totals = {default: 0.0}
        best = max(totals, key=lambda k: totals[k])
        weights = list(self.weight.get(best, []))
        against = sum(totals.values()) - totals[best]
        for keys, _, weight in self.fits:
            if best in keys:
                weights.append(weight)
            else:
                against += weight
        support = 1.0
        for w in weights:
            support *= 1.0 - min(w, 0.95)
        agreeing = 1.0 - support
        mine = sum(weights)
        share = mine / (mine + against) if mine else 0.0
        return best, round(agreeing * share, 2)


def _last(hits: list[Hit], kind: str) -> str | None:
    found = keys(hits, kind)
    return found[-1] if found else None


def infer_tag(tag: TagInfo, *, parent_loop: IsaTag | None = None) -> TagSemantics:
    """The semantics of one tag from its own clues (its equipment is decided later, with
    the others of its folder)."""
    votes = Votes()
    places: list[str] = []
    functions: Votes = Votes()
    name = tag.browse_path[-1] if tag.browse_path else tag.name.rsplit(".", 1)[-1]
    desc_hits = scan(tag.description or "", camel=False)
    name_hits = scan(name)
    if (q := _last(desc_hits, "quantity")) is not None:
        votes.add(q, 0.6, f"description {tag.description!r}: {q.replace('_', ' ')}")
    if (q := _last(name_hits, "quantity")) is not None:
        votes.add(q, 0.5, f"name {name!r}: {q.replace('_', ' ')}")
    places = keys(desc_hits, "place") or keys(name_hits, "place")
    for f in keys(desc_hits, "function") + keys(name_hits, "function"):
        functions.add(f, 0.6)
    isa = parse_isa(name)
    loop = isa.loop if isa else (parent_loop.loop if parent_loop else None)
    if isa is not None and isa.quantity:
        votes.add(isa.quantity, 0.5, isa.describe())
    item = isa.item if isa else (name.lower() if parent_loop else None)
    if parent_loop is not None and item in LOOP_ITEMS and parent_loop.quantity:
        votes.add(parent_loop.quantity, 0.5,
                  f"item {name!r} of loop {parent_loop.describe()}")
    if item in LOOP_ITEMS:
        functions.add(LOOP_ITEMS[item], 0.7)
    if isa is not None and isa.letters[0] in "YSU" and tag.data_type == "Boolean":
        functions.add("state", 0.6)
    if isa is not None and isa.functions and isa.functions[-1] == "relay" \
            and tag.data_type != "Boolean":
        functions.add("output", 0.5)
    if tag.unit and (key := unit_key(tag.unit)) in UNIT_QUANTITIES:
        q, w = UNIT_QUANTITIES[key]
        fits = frozenset({q}) | UNIT_ALSO.get(q, frozenset())
        votes.fit(fits, q, w * 0.6, f"unit {tag.unit}: "
                  + " or ".join(sorted(x.replace("_", " ") for x in fits)))
    if tag.data_type == "Boolean":
        votes.add("state", 0.6, "Boolean value: a state")
    quantity, confidence = votes.winner()
    function_key, _ = functions.winner()
    function: Function = "measurement"
    if quantity == "state":
        function = "state"
    elif function_key in ("setpoint", "output"):
        function = function_key  # type: ignore[assignment]
    if function == "output" and _last(desc_hits, "quantity") in ("position", None) \
            and tag.unit in ("%", None):
        quantity, confidence = "output", max(confidence, 0.6)
        votes.reasons.append("a controller output")
    if quantity == "output" and function == "measurement":
        function = "output"
    words = list(dict.fromkeys(tokens(tag.description or "", camel=False) + tokens(name)))
    return TagSemantics(
        tag=tag.name, quantity=quantity if confidence > 0.0 else None,
        places=[p for p in places if p != "motor" or quantity in ("current", "temperature",
                                                                    "power", "speed")],
        function=function, confidence=confidence, reasons=votes.reasons
        or ["no description, unit, ISA letters or known word in the name"],
        loop=loop, words=words)
