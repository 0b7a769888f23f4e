"""The claims of relations and trends: "inside/outside/above/below its range" must agree
with the value and the range it speaks of, "rising/falling/steady" with the trend of that
tag's history."""

from __future__ import annotations

from collections.abc import Sequence

from agent.pipeline.grounding import vocabulary as vocab
from agent.pipeline.grounding.claims import Claim
from agent.pipeline.grounding.facts import FactBook
from agent.pipeline.grounding.number_claims import tags_shown
from agent.pipeline.grounding.subjects import Subject
from agent.pipeline.grounding.text import Clause


def relation_claims(index: int, clause: Clause, subject: Subject,
                    book: FactBook) -> list[Claim]:
    """The relation and trend claims of ``clause`` (at most one of each)."""
    text = clause.text
    out = []
    for kind, pattern in (("inside", vocab.INSIDE), ("outside", vocab.OUTSIDE),
                          ("above", vocab.ABOVE), ("below", vocab.BELOW)):
        match = pattern.search(text)
        if match is None:
            continue
        negated = bool(vocab.NEGATION.search(text[:match.start()]))
        stated = _stated_range(clause)
        ok, why = _relation_holds(kind, negated, subject.tags, clause, stated, book)
        out.append(Claim("relation", match.group(), ok, why, index, subject.tags))
        break  # one relation per clause: "above its range" also reads as "outside"
    for kind, pattern in (("up", vocab.RISING), ("down", vocab.FALLING),
                          ("flat", vocab.STABLE)):
        match = pattern.search(text)
        if match is None:
            continue
        negated = bool(vocab.NEGATION.search(text[:match.start()]))
        ok, why = _trend_holds(kind, negated, subject.tags, book)
        out.append(Claim("trend", match.group(), ok, why, index, subject.tags))
        break
    return out


def _stated_range(clause: Clause) -> tuple[float | None, float | None]:
    limits = [n for n in clause.numbers if n.role == "limit"]
    pair = next((n for n in limits if n.pair is not None), None)
    if pair is not None and pair.pair is not None:
        a, b = float(pair.text.replace(",", ".")), float(pair.pair.text.replace(",", "."))
        return min(a, b), max(a, b)
    return None, None


def _side(value: float, low: float | None, high: float | None) -> str:
    if high is not None and value > high:
        return "high"
    if low is not None and value < low:
        return "low"
    return "inside"


def _relation_holds(kind: str, negated: bool, tags: Sequence[str], clause: Clause,
                    stated: tuple[float | None, float | None],
                    book: FactBook) -> tuple[bool, str]:
    sides = _sides(tags, clause, stated, book)
    if not sides:
        what = f"of {tags_shown(tags)}" if tags else "in the cited evidence"
        return False, f"no cited value and range {what} to compare"
    if kind == "inside":
        holds = all(s == "inside" for s in sides.values())
    elif kind == "outside":
        holds = any(s != "inside" for s in sides.values())
    elif kind == "above":
        holds = any(s == "high" for s in sides.values())
    else:
        holds = any(s == "low" for s in sides.values())
    if negated:
        holds = not holds
    if holds:
        return True, ""
    shown = ", ".join(f"{t}: {s if s != 'inside' else 'inside its range'}"
                      for t, s in list(sides.items())[:3])
    return False, f"the evidence says {shown}"


def _sides(tags: Sequence[str], clause: Clause, stated: tuple[float | None, float | None],
           book: FactBook) -> dict[str, str]:
    """Tag -> 'inside', 'high' or 'low', from the value and range the clause states or
    the evidence holds (readings, limit checks)."""
    out: dict[str, str] = {}
    stated_values = [float(n.text.replace(",", ".")) for n in clause.numbers
                     if n.role == "value"]
    wanted = set(tags)
    readings = [f for f in book.of_kind("reading") if f.value is not None
                and (not wanted or f.tag in wanted)]
    for fact in readings:
        assert fact.tag is not None and fact.value is not None
        low = stated[0] if stated[0] is not None else fact.low
        high = stated[1] if stated[1] is not None else fact.high
        if low is None and high is None:
            low, high = _limits_of(fact.tag, book)
        if low is None and high is None:
            continue
        value = stated_values[0] if len(stated_values) == 1 and len(wanted) == 1 else fact.value
        out[fact.tag] = _side(value, low, high)
    for scope in book.scopes:
        for tag, side in scope.outside.items():
            if not wanted or tag in wanted:
                out.setdefault(tag, side)
        if not wanted and not scope.outside:
            out.setdefault(f"{scope.checked} checked tag(s)", "inside")
        for tag in wanted:
            in_scope = scope.equipment is None or tag.split(".", 1)[0] in scope.equipment
            if in_scope and tag not in scope.outside and tag not in scope.untrusted:
                out.setdefault(tag, "inside")
    if stated_values and stated[0] is not None and not out and len(stated_values) == 1:
        out["the stated value"] = _side(stated_values[0], stated[0], stated[1])
    return out


def _limits_of(tag: str, book: FactBook) -> tuple[float | None, float | None]:
    low = next((f.value for f in book.of_kind("limit", tags=[tag]) if f.side == "low"), None)
    high = next((f.value for f in book.of_kind("limit", tags=[tag]) if f.side == "high"), None)
    return low, high


def _trend_holds(kind: str, negated: bool, tags: Sequence[str],
                 book: FactBook) -> tuple[bool, str]:
    trends = [f for f in book.of_kind("trend") if not tags or f.tag in tags]
    if not trends:
        return False, f"no cited history of {tags_shown(tags)} shows a trend"
    holds = any(f.direction == kind for f in trends)
    if negated:
        holds = not holds
    if holds:
        return True, ""
    shown = ", ".join(f"{f.tag} {_WORD[f.direction or 'flat']}" for f in trends[:3])
    return False, f"the history says {shown}"


_WORD = {"up": "rising", "down": "falling", "flat": "steady"}
