"""Reading an answer the way a checker must: names, numbers, units, trend words.

Everything here is about the ground truth's own vocabulary (English and German), never
about how the product names things. Names match ignoring case, umlauts and separators
("P-2001" matches "P2001", "p_2001", "P 2001"; "Kühlwasserpumpe" matches
"Kuehlwasserpumpe"), on word boundaries ("pump 1" does not match "pump 12").
"""

from __future__ import annotations

import re

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe",
                          "Ü": "ue"})
_SEP = r"[\s\-_/.]*"


def fold(text: str) -> str:
    """Lower case with umlauts written out."""
    return text.translate(_UMLAUTS).lower()


def name_pattern(name: str) -> re.Pattern[str]:
    """A pattern for ``name`` on word boundaries, separators optional."""
    parts = [p for p in re.split(r"[\s\-_/.]+", fold(name)) if p]
    body = _SEP.join(re.escape(p) for p in parts)
    return re.compile(rf"(?<![a-z0-9]){body}(?![a-z0-9])")


def mentions(text: str, names: list[str] | tuple[str, ...]) -> bool:
    """Whether ``text`` names any of ``names``."""
    folded = fold(text)
    return any(name_pattern(n).search(folded) for n in names if n.strip())


_NUMBER = re.compile(r"(?<![\w.,])-?\d+(?:[.,]\d+)*(?![\w])")


def numbers_in(text: str) -> list[float]:
    """Every number written in ``text``, in both readings where a comma is ambiguous
    ("47,3" is 47.3 in German; "4,018" may be 4018 or 4.018)."""
    out: list[float] = []
    for token in _NUMBER.findall(text):
        if "," not in token:
            readings = [token]
        else:
            # English thousands separators, or a German decimal comma (dots as thousands).
            readings = [token.replace(",", ""), token.replace(".", "").replace(",", ".")]
        for reading in readings:
            try:
                out.append(float(reading))
            except ValueError:
                continue
    return out


def states_number(text: str, low: float, high: float) -> bool:
    """Whether ``text`` states a number inside [low, high]."""
    return any(low <= n <= high for n in numbers_in(text))


#: Accepted spellings of each unit symbol the plants use (regex, searched in the text).
UNIT_PATTERNS: dict[str, str] = {
    "°C": r"°\s*C|deg(?:rees?)?\s*C\b|\bdegC\b|celsius|grad\b",
    "K": r"\d\s*K\b|kelvin",
    "bar": r"\bbar\b",
    "mbar": r"\bmbar\b|millibar",
    "kPa": r"\bkPa\b",
    "Pa": r"\bPa\b|pascal",
    "mg/l": r"mg\s*/\s*l\b|milligrams? per lit",
    "l/h": r"\bl\s*/\s*h\b|lit(?:re|er)s? per hour",
    "m³/h": r"m(?:³|3|\^3)\s*/\s*h|cubic met(?:re|er)s? per hour",
    "%": r"%|percent|prozent",
    "mm/s": r"mm\s*/\s*s\b",
    "A": r"\d\s*A\b|amps?\b|ampere",
    "kW": r"\bkW\b|kilowatt",
    "m": r"\d\s*m\b|met(?:re|er)s?\b",
    "r/min": r"r\s*/\s*min|rpm|U\s*/\s*min|1\s*/\s*min",
    "Hz": r"\bHz\b|hertz",
}


def states_unit(text: str, unit: str) -> bool:
    """Whether ``text`` gives the unit ``unit`` (any accepted spelling)."""
    pattern = UNIT_PATTERNS.get(unit, re.escape(unit))
    return re.search(pattern, text, flags=re.IGNORECASE) is not None


#: Words that say which way a value moves, per direction (English and German); not
#: "higher"/"lower", which answers use for limits as often as for movement.
TREND_WORDS: dict[str, tuple[str, ...]] = {
    "up": ("rising", "rose", "risen", "increasing", "increased", "climbing", "climbed",
           "going up", "gone up", "went up", "upward", "trending up", "grown", "growing",
           "steigt", "steigend", "gestiegen", "zunehmend", "angestiegen", "nimmt zu"),
    "down": ("falling", "fell", "fallen", "decreasing", "decreased", "dropping", "dropped",
             "going down", "gone down", "went down", "downward", "trending down",
             "declining", "sinkt", "sinkend", "gesunken", "fällt", "fallend", "abnehmend",
             "nimmt ab"),
    "steady": ("steady", "stable", "flat", "constant", "unchanged", "level", "no trend",
               "no significant change", "stabil", "konstant", "gleichbleibend",
               "unverändert"),
}


def says_direction(text: str, direction: str) -> bool:
    """Whether ``text`` uses a word of ``direction``."""
    return mentions(text, TREND_WORDS[direction])


#: How an answer says a value is beyond its limits, or inside them (English, German).
LIMIT_WORDS: dict[str, tuple[str, ...]] = {
    "outside": ("outside", "above", "exceed", "exceeds", "exceeded", "exceeding", "over the",
                "beyond", "too high", "too low", "below", "out of range", "out of its",
                "violat", "breach", "not within", "überschritten", "unterschritten",
                "außerhalb", "ausserhalb", "oberhalb", "unterhalb", "über dem", "über der",
                "unter dem", "unter der", "zu hoch", "zu niedrig", "nicht innerhalb"),
    "inside": ("inside", "innerhalb", "im normalbereich", "in range", "within its",
               "within the"),
}


def says_limit_state(text: str, state: str) -> bool:
    """Whether ``text`` says the value is ``state`` ("outside"/"inside") its limits.
    Prefix match: "exceed" covers "exceeds"; a negated "not within" counts as outside."""
    folded = fold(text)
    words = [fold(w) for w in LIMIT_WORDS[state]]
    if state == "inside":
        folded = folded.replace("not within", "").replace("nicht innerhalb", "")
    return any(re.search(rf"(?<![a-z0-9]){re.escape(w)}", folded) for w in words)
