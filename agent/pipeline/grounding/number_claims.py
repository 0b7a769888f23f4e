"""The claims of numbers: a value must be a reading of its tag (in its unit), a limit a
limit, a statistic or rate that statistic of the cited history, a requested value a
request; a number matches at the precision it is written with."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from agent.pipeline.grounding.claims import Claim
from agent.pipeline.grounding.facts import Fact, FactBook
from agent.pipeline.grounding.sentences import value_text
from agent.pipeline.grounding.text import Number, PlantNames


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


def same_unit(a: str | None, b: str | None) -> bool:
    """True when ``a`` and ``b`` name the same unit (however written)."""
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


def check_number(index: int, number: Number, tags: tuple[str, ...], book: FactBook,
                 evidence_text: str, names: PlantNames) -> list[Claim]:
    """The claims of ``number`` (about ``tags``) in sentence ``index``, by its role."""
    role = number.role
    subject = tags or None
    text = number.text
    if role == "value" and subject:
        readings = book.of_kind("reading", tags=subject)
        if not readings:
            return [Claim("value", text, False, f"no cited reading of {tags_shown(subject)}",
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
            return [Claim("value", text, False, f"not a reading of {tags_shown(subject)} "
                          f"({current})", index, tags)]
        claims = [Claim("value", text, True, "", index, tags)]
        if number.unit:
            ok = same_unit(found.unit, number.unit) if found.unit else \
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
                        f"not a limit of {tags_shown(subject) if limits else 'the cited evidence'}",
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
            same_unit(f.unit, number.unit) for f in book.facts if f.unit)
        claims.append(Claim("unit", number.unit, unit_ok,
                            "" if unit_ok else "no cited value has this unit", index))
    return claims


def tags_shown(tags: Sequence[str] | None) -> str:
    """At most three of ``tags`` for a reason text."""
    if not tags:
        return "it"
    return " or ".join(tags[:3]) + (" ..." if len(tags) > 3 else "")
