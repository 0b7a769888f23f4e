"""The grounding check: every claim of an answer against the facts of its evidence, by
what the claim says.

- a number stated as a tag's current value must be a reading of that tag (not a limit,
  a proposal, a manual or a past incident), in the tag's unit;
- a range or limit must be a limit (of that tag, when the evidence has its limits; a
  manual's number may state a limit);
- a maximum, mean or past value must come from that tag's history or readings;
- a requested value from a request; a time from a timestamp; a duration from any number;
- "inside/outside/above/below its range" must agree with the value and the range it
  speaks of; "rising/falling/steady" with the trend of that tag's history;
- every tag and equipment named must be in the evidence; an identifier the plant does
  not have is never supported.

The check is deterministic and conservative; what it cannot support is listed per
sentence, so the writer can send the draft back or replace those sentences.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC
from typing import Literal

from agent.pipeline.grounding import vocabulary as vocab
from agent.pipeline.grounding.facts import Fact, FactBook
from agent.pipeline.grounding.sentences import value_text
from agent.pipeline.grounding.text import (
    Clause,
    Mention,
    Number,
    PlantNames,
    Sentence,
    best_tags,
    clause_words,
    parse,
)

ClaimKind = Literal["value", "limit", "history", "request", "time", "duration", "number",
                    "unit", "tag", "equipment", "record", "relation", "trend"]


@dataclass(frozen=True)
class Claim:
    """One checked piece of an answer, in sentence ``sentence``."""

    kind: ClaimKind
    text: str
    supported: bool
    reason: str = ""
    sentence: int = 0
    tags: tuple[str, ...] = ()


@dataclass
class GroundingReport:
    """The verdict on a text: its claims, and the subject tags of each sentence."""

    claims: list[Claim]
    sentences: list[Sentence]
    subjects: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def grounded(self) -> bool:
        """True when every claim is supported."""
        return all(c.supported for c in self.claims)

    @property
    def unsupported(self) -> list[Claim]:
        """The claims the evidence does not support."""
        return [c for c in self.claims if not c.supported]

    def bad_sentences(self) -> dict[int, list[Claim]]:
        """Sentence index -> its unsupported claims."""
        out: dict[int, list[Claim]] = {}
        for claim in self.unsupported:
            out.setdefault(claim.sentence, []).append(claim)
        return out


@dataclass
class _Subject:
    tags: tuple[str, ...] = ()
    equipment: str | None = None


def check_claims(text: str, book: FactBook, names: PlantNames) -> GroundingReport:
    """Check ``text`` against ``book`` (the facts of the evidence it cites)."""
    parsed = parse(text, names)
    report = GroundingReport([], parsed)
    evidence_text = book.text()
    carried = _Subject()
    for index, sentence in enumerate(parsed):
        subjects: set[str] = set()
        report.claims += _names(index, sentence.mentions, book, evidence_text, names)
        for clause in sentence.clauses:
            carried = _resolve(clause, carried, book, names)
            subjects |= set(carried.tags)
            for number in clause.numbers:
                tags = _number_subject(clause, number, carried, names)
                report.claims += _check_number(index, number, tags, book, evidence_text, names)
            report.claims += _relations(index, clause, carried, book)
        report.subjects.append(tuple(sorted(subjects)))
    return report


# -- names ------------------------------------------------------------------------------


def _names(index: int, found: Sequence[Mention], book: FactBook, evidence_text: str,
           names: PlantNames) -> list[Claim]:
    out = []
    known = {n.lower() for n in (*names.tags, *names.equipment)}
    for m in found:
        if m.kind in ("tag", "condition") and m.tag:
            ok = m.tag.lower() in book.names or m.tag.lower() in evidence_text \
                or m.text.lower() in evidence_text
            out.append(Claim("tag", m.tag, ok, "" if ok else "no cited evidence mentions it",
                             index, (m.tag,)))
        elif m.kind == "equipment" and m.equipment:
            ok = m.equipment.lower() in book.names or m.equipment.lower() in evidence_text \
                or any(t.lower() in book.names for t in names.members.get(m.equipment, ()))
            out.append(Claim("equipment", m.equipment, ok,
                             "" if ok else "no cited evidence mentions it", index))
        elif m.kind == "unknown" and m.text.lower() not in known:
            ok = m.text.lower() in evidence_text
            out.append(Claim("equipment", m.text, ok, "" if ok else "not in the plant catalog",
                             index))
        elif m.kind == "record":
            ok = m.text.lower() in evidence_text or m.text.lower() in book.names
            out.append(Claim("record", m.text, ok, "" if ok else "no cited record has this id",
                             index))
        elif m.kind == "time":
            ok = _time_supported(m.text, book)
            out.append(Claim("time", m.text, ok, "" if ok else "no cited timestamp says this",
                             index))
    return out


def _time_supported(text: str, book: FactBook) -> bool:
    times = book.of_kind("time", "reading", "stat")
    if re.fullmatch(r"\d{1,2}:\d\d(?::\d\d)?", text):
        parts = text.split(":")
        wanted = tuple(int(p) for p in parts)
        clock = f"{wanted[0]:02d}:{wanted[1]:02d}"
        for fact in times:
            if fact.clock is not None and len(parts) == 2 and fact.clock == clock:
                return True
            if fact.when is None:
                continue
            moment = fact.when.astimezone(UTC)
            got = (moment.hour, moment.minute, moment.second)[:len(parts)]
            if got == wanted:
                return True
        return False
    day = text[:10]
    full = text[11:19] if len(text) >= 16 else ""
    for fact in times:
        if fact.when is None:
            continue
        stamp = fact.when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        if stamp[:10] == day and (not full or stamp[11:11 + len(full)] == full):
            return True
    return False


# -- subjects ---------------------------------------------------------------------------


def _resolve(clause: Clause, carried: _Subject, book: FactBook, names: PlantNames) -> _Subject:
    """What the clause is about: the tags it names; else an equipment it names and the
    quantity its words say; else those words among the tags of the equipment talked
    about so far, or of the evidence; else what the sentence before was about."""
    tags = tuple(dict.fromkeys(m.tag for m in clause.mentions if m.kind == "tag" and m.tag))
    if tags:
        return _Subject(tags, tags[-1].split(".", 1)[0])
    words = clause_words(clause.text)
    equipment = [m.equipment for m in clause.mentions if m.kind == "equipment" and m.equipment]
    if equipment:
        candidates = [t for e in dict.fromkeys(equipment) for t in names.tags_of(e)]
        best = best_tags(words, candidates)
        return _Subject(tuple(best or candidates), equipment[-1])
    if carried.equipment:
        best = best_tags(words, names.tags_of(carried.equipment))
        if best:
            return _Subject(tuple(best), carried.equipment)
    best = best_tags(words, sorted(book.tags()))
    if best:
        return _Subject(tuple(best), best[0].split(".", 1)[0] if len(
            {t.split(".", 1)[0] for t in best}) == 1 else None)
    return carried


def _number_subject(clause: Clause, number: Number, subject: _Subject,
                    names: PlantNames) -> tuple[str, ...]:
    """The tags a number is about: the nearest tag named before it in the clause (or
    after it), else the clause's subject; narrowed to the tags of the number's unit."""
    named = [m for m in clause.mentions if m.kind in ("tag", "condition") and m.tag]
    before = [m for m in named if m.end <= number.start]
    after = [m for m in named if m.start >= number.end]
    tags: tuple[str, ...]
    if before and before[-1].kind == "condition":
        return ()  # a value quoted with an alarm is the alarm's, not a current reading
    if before:
        tags = (before[-1].tag or "",)
    elif after:
        tags = (after[0].tag or "",)
    else:
        tags = subject.tags
    if number.unit and len(tags) > 1:
        same = tuple(t for t in tags if _same_unit(names.tag_units.get(t), number.unit))
        if same:
            tags = same
    return tags


# -- numbers ----------------------------------------------------------------------------


def _decimals(text: str) -> int:
    for sep in (".", ","):
        if sep in text:
            return len(text.split(sep, 1)[1])
    return 0


def number_matches(text: str, value: float) -> bool:
    """True when ``text`` states ``value`` at the precision it is written with (a
    percentage may be written from a 0..1 fraction)."""
    number = float(text.replace(",", "."))
    tolerance = 0.5 * 10 ** -_decimals(text) + 1e-9
    if abs(value - number) <= tolerance:
        return True
    return 0 <= value <= 1 and abs(value * 100 - number) <= tolerance


def _same_unit(a: str | None, b: str | None) -> bool:
    def norm(u: str) -> str:
        u = u.strip().lower().replace(" ", "")
        return {"degc": "°c", "m3/h": "m³/h", "l/min": "l/min", "deg": "°c"}.get(u, u)

    return a is not None and b is not None and norm(a) == norm(b)


def _match(number: Number, facts: Iterable[Fact]) -> Fact | None:
    return next((f for f in facts if f.value is not None and number_matches(number.text, f.value)),
                None)


def _change_match(number: Number, changes: Iterable[Fact]) -> Fact | None:
    """The change ``number`` states: with its sign when it is written with one, else by
    size ("dropped by 5.4": the words carry the direction)."""
    signed = number.text[0] in "+-"
    size = number.text.lstrip("+-")
    return next((f for f in changes if f.value is not None and (
        number_matches(number.text, f.value) if signed else number_matches(size, abs(f.value))
    )), None)


def _check_number(index: int, number: Number, tags: tuple[str, ...], book: FactBook,
                  evidence_text: str, names: PlantNames) -> list[Claim]:
    role = number.role
    subject = tags or None
    text = number.text
    if role == "value" and subject:
        readings = book.of_kind("reading", tags=subject)
        if not readings:
            return [Claim("value", text, False, f"no cited reading of {_shown(subject)}",
                          index, tags)]
        found = _match(number, readings)
        if found is None and text[0] in "+-":
            # A signed number next to a tag may be its change ("-5.36 against baseline").
            changes = [f for f in book.of_kind("stat", tags=subject) if f.name == "change"]
            if _change_match(number, changes) is not None:
                return [Claim("history", text, True, "", index, tags)]
        if found is None:
            current = ", ".join(f"{r.tag} reads {value_text(r.value)}" for r in readings[:3]
                                if r.value is not None) or "no value"
            return [Claim("value", text, False, f"not a reading of {_shown(subject)} "
                          f"({current})", index, tags)]
        claims = [Claim("value", text, True, "", index, tags)]
        if number.unit:
            ok = _same_unit(found.unit, number.unit) if found.unit else \
                number.unit.lower() in evidence_text
            claims.append(Claim("unit", number.unit, ok, "" if ok else
                                f"{found.tag} is in {found.unit or 'no unit'}", index, tags))
        return claims
    if role == "limit":
        # A limit of the tag talked about, or one a text states (a manual's limit); any
        # limit of the evidence when it holds none of that tag's.
        limits = book.of_kind("limit", tags=subject) if subject else []
        pool = (limits or book.of_kind("limit")) + book.of_kind("text")
        ok = _match(number, pool) is not None
        claims = [Claim("limit", text, ok, "" if ok else
                        f"not a limit of {_shown(subject) if limits else 'the cited evidence'}",
                        index, tags)]
    elif role == "history":
        pool = book.of_kind("stat", "reading", "trend", tags=subject) if subject else []
        pool = pool or book.of_kind("stat", "reading", "trend")
        said = number.statistic
        if said in ("slope", "slope per minute"):
            # A rate is the trend's slope (a "trend" fact, per hour).
            per = 60.0 if said == "slope per minute" else 1.0
            named = [replace(f, value=f.value / per) for f in pool
                     if f.kind == "trend" and f.name == "slope" and f.value is not None]
        else:
            named = [f for f in pool if f.kind == "stat" and f.name == said] if said else []
        if named:
            # "The average was 124.1 kW" must be the cited history's mean, not its last
            # sample: a number said to be a statistic is checked against that statistic.
            matcher = _change_match if said == "change" else _match
            ok = matcher(number, named) is not None
            shown = ", ".join(f"{f.tag} {said} {value_text(f.value)}" for f in named[:3]
                              if f.value is not None)
            claims = [Claim("history", text, ok, "" if ok else
                            f"not the {said} of the cited history ({shown})", index, tags)]
        else:
            ok = _match(number, pool) is not None
            claims = [Claim("history", text, ok, "" if ok else
                            "no cited history or reading has this value", index, tags)]
    elif role == "request":
        pool = book.of_kind("request", tags=subject) or book.of_kind("request")
        ok = _match(number, pool) is not None
        claims = [Claim("request", text, ok, "" if ok else "no cited request has this value",
                        index, tags)]
    elif role == "duration":
        ok = _match(number, book.facts) is not None
        return [Claim("duration", text, ok, "" if ok else "no cited value matches", index)]
    else:
        ok = _match(number, book.facts) is not None
        claims = [Claim("number", text, ok, "" if ok else "no cited value matches", index,
                        tags)]
    if number.unit:
        unit_ok = number.unit.lower() in evidence_text or any(
            _same_unit(f.unit, number.unit) for f in book.facts if f.unit)
        claims.append(Claim("unit", number.unit, unit_ok,
                            "" if unit_ok else "no cited value has this unit", index))
    return claims


def _shown(tags: Sequence[str] | None) -> str:
    if not tags:
        return "it"
    return " or ".join(tags[:3]) + (" ..." if len(tags) > 3 else "")


# -- relations --------------------------------------------------------------------------


def _relations(index: int, clause: Clause, subject: _Subject, book: FactBook) -> list[Claim]:
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
        what = f"of {_shown(tags)}" if tags else "in the cited evidence"
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
        return False, f"no cited history of {_shown(tags)} shows a trend"
    holds = any(f.direction == kind for f in trends)
    if negated:
        holds = not holds
    if holds:
        return True, ""
    shown = ", ".join(f"{f.tag} {_WORD[f.direction or 'flat']}" for f in trends[:3])
    return False, f"the history says {shown}"


_WORD = {"up": "rising", "down": "falling", "flat": "steady"}


def finite(value: float | None) -> bool:
    """True for a real number."""
    return value is not None and math.isfinite(value)
