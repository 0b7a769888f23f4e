"""The grounding check: every number, unit, tag and equipment name in an answer must be
found in the evidence the answer cites.

The check is deterministic and conservative. What no cited evidence supports is listed
and marked in the answer text as ``[unverified: ...]``, so a reader never mistakes it for
a reading.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from agent.loop.evidence import Evidence

ClaimKind = Literal["number", "unit", "tag", "equipment", "citation"]

_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:[.,]\d+)?(?![\w])")
# Things that look like equipment or tag identifiers (P-101, HX-101.OutletTemp).
_IDENT = re.compile(r"\b[A-Z]{1,4}-\d{1,5}(?:\.[A-Za-z][\w]*)?\b")
_EVIDENCE_REF = re.compile(r"\[?\bE\d+\b\]?")

#: Units recognised after a number even when the catalog does not list them.
COMMON_UNITS = (
    "°C", "degC", "K", "bar", "mbar", "kPa", "Pa", "psi", "m³/h", "m3/h", "L/min", "l/min",
    "kg/h", "t/h", "mm/s", "m/s", "rpm", "Hz", "A", "V", "kW", "W", "kWh", "%", "mm",
    "m", "s", "min", "h", "kg", "t",
)


@dataclass(frozen=True)
class Claim:
    """One checked piece of an answer."""

    kind: ClaimKind
    text: str
    supported: bool
    reason: str = ""


@dataclass
class GroundingReport:
    """The outcome of the check; ``marked_answer`` carries the unverified marks."""

    grounded: bool
    claims: list[Claim] = field(default_factory=list)
    marked_answer: str = ""

    @property
    def unsupported(self) -> list[Claim]:
        """The claims no cited evidence supports."""
        return [c for c in self.claims if not c.supported]


def _numbers_in(value: Any, out: list[float], lengths: set[int]) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        if math.isfinite(value):
            out.append(float(value))
    elif isinstance(value, str):
        out.extend(_parse_number(m.group()) for m in _NUMBER.finditer(value))
    elif isinstance(value, dict):
        for item in value.values():
            _numbers_in(item, out, lengths)
    elif isinstance(value, list | tuple):
        lengths.add(len(value))
        for item in value:
            _numbers_in(item, out, lengths)


def _parse_number(text: str) -> float:
    return float(text.replace(",", "."))


def _decimals(text: str) -> int:
    for sep in (".", ","):
        if sep in text:
            return len(text.split(sep, 1)[1])
    return 0


def _number_supported(text: str, values: Sequence[float], counts: set[int]) -> bool:
    number = _parse_number(text)
    places = _decimals(text)
    tolerance = 0.5 * 10**-places + 1e-9
    if places == 0 and number.is_integer() and int(number) in counts:
        return True
    for value in values:
        if abs(value - number) <= tolerance:
            return True
        # A percentage may be written from a 0..1 fraction.
        if abs(value * 100 - number) <= tolerance and 0 <= value <= 1:
            return True
    return False


def _mentions(text: str, names: Iterable[str]) -> list[str]:
    found = []
    lowered = text.lower()
    for name in sorted(set(names), key=len, reverse=True):
        pattern = r"(?<![\w.-])" + re.escape(name.lower()) + r"(?![\w-])"
        if re.search(pattern, lowered):
            found.append(name)
    return found


_MARKER = re.compile(r"\[unverified: [^\]]*\]")


def _mark_once(text: str, claim: str) -> str:
    """Mark the first occurrence of ``claim`` outside the markers already in ``text``."""
    pattern = re.compile(r"(?<![\w.])" + re.escape(claim) + r"(?![\w])")
    parts = _MARKER.split(text)
    markers = _MARKER.findall(text)
    for i, part in enumerate(parts):
        if pattern.search(part):
            parts[i] = pattern.sub(f"[unverified: {claim}]", part, count=1)
            break
    out = parts[0]
    for marker, part in zip(markers, parts[1:], strict=True):
        out += marker + part
    return out


def check_grounding(
    answer: str,
    cited: Sequence[Evidence],
    *,
    tag_names: Iterable[str] = (),
    equipment_names: Iterable[str] = (),
    units: Iterable[str] = (),
) -> GroundingReport:
    """Check an answer against the evidence it cites."""
    evidence_text = "\n".join(e.text for e in cited).lower()
    values: list[float] = []
    counts: set[int] = set()
    for evidence in cited:
        _numbers_in(evidence.data, values, counts)
    tags = list(tag_names)
    equipment = list(equipment_names)
    claims: list[Claim] = []

    named = _mentions(answer, tags) + _mentions(answer, equipment)
    for name in named:
        kind: ClaimKind = "tag" if name in tags else "equipment"
        ok = name.lower() in evidence_text
        claims.append(Claim(kind, name, ok, "" if ok else "no cited evidence mentions it"))
    known = {n.lower() for n in tags + equipment}
    for match in _IDENT.finditer(answer):
        ident = match.group()
        if ident.lower() not in known and ident.lower() not in evidence_text:
            claims.append(Claim("equipment", ident, False, "not in the plant catalog"))

    # Numbers: look at the text with names and evidence references removed, so the 101 of
    # P-101 or the 2 of E2 is not taken for a reading.
    stripped = _EVIDENCE_REF.sub(" ", answer)
    for name in sorted(named, key=len, reverse=True):
        stripped = re.sub(re.escape(name), " ", stripped, flags=re.IGNORECASE)
    stripped = _IDENT.sub(" ", stripped)
    unit_list = sorted({*units, *COMMON_UNITS} - {""}, key=len, reverse=True)
    unit_pattern = "|".join(re.escape(u) for u in unit_list)
    number_unit = re.compile(
        rf"(?<![\w.])([-+]?\d+(?:[.,]\d+)?)(?:\s?({unit_pattern})(?![\w/]))?"
    )
    for match in number_unit.finditer(stripped):
        number, unit = match.group(1), match.group(2)
        ok = _number_supported(number, values, counts)
        claims.append(Claim("number", number, ok, "" if ok else "no cited value matches"))
        if unit:
            unit_ok = unit.lower() in evidence_text or (unit == "°C" and "degc" in evidence_text)
            claims.append(
                Claim("unit", unit, unit_ok, "" if unit_ok else "no cited reading has this unit")
            )

    marked = answer
    # Longest first, and never inside a marker already placed: the equipment "M-101" of
    # an unsupported tag "M-101.Speed" must not be marked a second time within it.
    for claim in sorted({c.text: c for c in claims if not c.supported}.values(),
                        key=lambda c: -len(c.text)):
        marked = _mark_once(marked, claim.text)
    grounded = all(c.supported for c in claims)
    return GroundingReport(grounded=grounded, claims=claims, marked_answer=marked)
