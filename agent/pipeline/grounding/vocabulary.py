"""The words that say what a number in an answer claims to be, in the languages answers
are written in (English, German, French, Spanish).

A number after "range" or "limit" claims to be a limit; after "max", "mean" or "was" a
value from the history; after "requested" or "set to" a requested value; a number with a
tag's unit after "is" its current reading. "Inside its range", "rising" and their kin are
claims about a value, a range or a trend, checked against them.
"""

from __future__ import annotations

import re


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])", re.IGNORECASE)


LIMIT = _words(
    r"range", r"ranges", r"limit", r"limits", r"bound", r"bounds", r"band", r"threshold",
    r"thresholds", r"allowed", r"grenzwert\w*", r"grenze\w*", r"bereich\w*", r"plage\w*",
    r"limite\w*", r"seuil\w*", r"rango\w*", r"umbral\w*", r"intervalle",
)
HISTORY = _words(
    r"max", r"maximum", r"highest", r"peak\w*", r"min", r"minimum", r"lowest", r"mean",
    r"average", r"avg", r"median", r"was", r"were", r"reached", r"rose", r"fell", r"dropped",
    r"climbed", r"previously", r"earlier", r"höchst\w*", r"maximal\w*", r"minimal\w*",
    r"mittel\w*", r"durchschnitt\w*", r"war", r"waren", r"moyenne", r"était", r"maximale?",
    r"minimale?", r"máxim[oa]", r"mínim[oa]", r"media", r"promedio", r"fue", r"era",
)
#: The statistic a history number is said to be: "the average was 113.8 kW" must be the
#: mean of the cited history, not its last sample or any reading.
STATISTICS: dict[str, re.Pattern[str]] = {
    "mean": _words(r"mean", r"average", r"avg", r"moyenne", r"moyen", r"media", r"medio",
                   r"promedio", r"mittel\w*", r"durchschnitt\w*"),
    "max": _words(r"max", r"maximum", r"highest", r"peak\w*", r"höchst\w*", r"maximal\w*",
                  r"máxim[oa]", r"plus haut\w*"),
    "min": _words(r"min", r"minimum", r"lowest", r"niedrigst\w*", r"minimal\w*", r"mínim[oa]",
                  r"plus bas\w*"),
    # "dropped by 5.4", "a change of -6": the difference from the start of the window (or
    # from the baseline triage compares with), not a reading.
    "change": _words(r"by", r"change[sd]?", r"delta", r"deviation", r"differen\w*", r"um",
                     r"änderung", r"abweichung", r"variation", r"écart", r"cambio",
                     r"diferencia", r"variación", r"desviación"),
}


def statistic_before(text: str) -> str | None:
    """The statistic named last in ``text`` (the words before a number), if any; "30 min"
    is a duration, not the minimum."""
    found: tuple[int, str] | None = None
    for name, pattern in STATISTICS.items():
        for match in pattern.finditer(text):
            if name == "min" and re.search(r"\d\s*$", text[:match.start()]):
                continue
            if match.group().lower() in ("by", "um") and text[match.end():].strip():
                continue  # "the maximum reached by P-101 was": only "by 5.4" is a change
            if found is None or match.start() > found[0]:
                found = (match.start(), name)
    return found[1] if found else None


REQUEST = _words(
    r"request\w*", r"propos\w*", r"pending", r"new value", r"approval", r"antrag\w*",
    r"anfrage\w*", r"demande\w*", r"solicitud\w*", r"petición",
    r"(?:set|change|changed|raise|raised|lower|lowered|adjust|adjusted|increase|decrease)"
    r"(?:\s+\S+){0,6}?\s+(?:to|auf|à|a)",
)
#: Words before a number that make it a plain count or score, not a reading.
PLAIN = _words(
    r"confidence", r"score", r"severity", r"probability", r"count", r"samples", r"points",
    r"number of", r"konfidenz", r"confiance", r"confianza",
)
#: Words just before a number that state a value ("is 42", "at 42", "= 42").
COPULA = _words(
    r"is", r"are", r"at", r"of", r"reads", r"reading", r"now", r"currently", r"shows",
    r"measures", r"ist", r"sind", r"beträgt", r"liegt", r"bei", r"aktuell", r"est", r"sont",
    r"à", r"de", r"vaut", r"actuellement", r"es", r"está", r"son", r"en", r"actualmente",
)

#: Numbers with these units are durations, not readings.
DURATION_UNITS = (
    r"min|mins|minute|minutes|minuten|h|hr|hrs|hour|hours|stunde|stunden|heure|heures|hora|"
    r"horas|s|sec|secs|second|seconds|sekunden|secondes|segundos|day|days|tag|tage|jour|"
    r"jours|día|días"
)
#: A rate, after a number and its unit: "2.3 °C/h", "1.2 bar per hour".
RATE = re.compile(r"^\s?(?:/\s?(?:h|min)\b|per (?:hour|minute)|pro stunde|par heure|"
                  r"por hora)", re.IGNORECASE)
#: A rate after a number whose unit the check does not know: "2.3 degF/h".
RATE_UNKNOWN_UNIT = re.compile(r"^\s?\S{1,8}?/(?:h|min)\b", re.IGNORECASE)

_NEG = r"(?:not|no|none|nothing|never|nicht|kein\w*|nichts|pas|aucun\w*|ni|ningún|ninguna|nada)"
_ITS = (r"(?:\s+(?:its|the|their|his|her|sein\w*|ihr\w*|der|dem|den|des|sa|son|ses|la|le|"
        r"les|du|su|sus|el|del))?")
_NORMAL = r"(?:\s+(?:normal|operating|allowed|normalen?|zulässigen?|normale|autorisée|operativo))?"
_RANGE = (r"(?:range|ranges|limit|limits|band|bounds|bereich|grenzen|grenzwerte?|plage|"
          r"limites?|rango|límites?|intervalle)")

INSIDE = re.compile(
    rf"(?<![\w-])(?:(?:inside|within|in){_ITS}{_NORMAL}\s+{_RANGE}|in range|within limits|"
    rf"innerhalb{_ITS}{_NORMAL}\s+{_RANGE}|im normalen bereich|"
    rf"dans{_ITS}{_NORMAL}\s+{_RANGE}|dentro\s+de{_ITS}{_NORMAL}\s+{_RANGE}|"
    rf"en{_ITS}\s+{_RANGE}\s+normal)(?![\w-])", re.IGNORECASE)
OUTSIDE = re.compile(
    rf"(?<![\w-])(?:(?:outside|out of|beyond){_ITS}{_NORMAL}\s+{_RANGE}|out of range|"
    rf"außerhalb{_ITS}{_NORMAL}\s+{_RANGE}|hors{_ITS}(?:\s+de)?{_ITS}{_NORMAL}\s+{_RANGE}|"
    rf"fuera\s+de{_ITS}{_NORMAL}\s+{_RANGE}|exceed\w*|überschreit\w*|dépass\w*|"
    rf"excede\w*|supera\w*)(?![\w-])", re.IGNORECASE)
ABOVE = re.compile(
    rf"(?<![\w-])(?:(?:above|over|higher than){_ITS}(?:\s+(?:high|upper|max|maximum))?\s+"
    rf"(?:limit|range|maximum|normal range|alarm limit)|too high|"
    rf"über{_ITS}(?:\s+(?:oberen?|höchsten?))?\s+(?:grenzwert|grenze|bereich)|zu hoch|"
    rf"au-dessus{_ITS}(?:\s+de)?{_ITS}\s+(?:limite|plage|seuil)|trop élevée?|"
    rf"por encima{_ITS}(?:\s+de)?{_ITS}\s+(?:límite|rango|umbral)|demasiado alt[oa])(?![\w-])",
    re.IGNORECASE)
BELOW = re.compile(
    rf"(?<![\w-])(?:(?:below|under|lower than){_ITS}(?:\s+(?:low|lower|min|minimum))?\s+"
    rf"(?:limit|range|minimum|normal range|alarm limit)|too low|"
    rf"unter{_ITS}(?:\s+(?:unteren?|niedrigsten?))?\s+(?:grenzwert|grenze|bereich)|zu niedrig|"
    rf"en[- ]dessous{_ITS}(?:\s+de)?{_ITS}\s+(?:limite|plage|seuil)|trop basse?|"
    rf"por debajo{_ITS}(?:\s+de)?{_ITS}\s+(?:límite|rango|umbral)|demasiado baj[oa])(?![\w-])",
    re.IGNORECASE)
RISING = _words(
    r"rising", r"rises", r"rose", r"increasing", r"increases", r"increased", r"climbing",
    r"climbs", r"going up", r"trending up", r"upward", r"steigt", r"steigend", r"gestiegen",
    r"ansteigend", r"monte", r"augmente", r"en hausse", r"en aumento", r"aumenta", r"sube",
    r"subiendo",
)
FALLING = _words(
    r"falling", r"falls", r"fell", r"decreasing", r"decreases", r"decreased", r"dropping",
    r"dropped", r"declining", r"going down", r"trending down", r"downward", r"sinkt",
    r"sinkend", r"gesunken", r"fallend", r"baisse", r"diminue", r"descend", r"en baisse",
    r"disminuye", r"bajando", r"cae",
)
STABLE = _words(
    r"stable", r"steady", r"flat", r"constant", r"unchanged", r"stabil", r"konstant",
    r"gleichbleibend", r"estable", r"constante", r"inchangée?",
)
NEGATION = re.compile(rf"(?<![\w-]){_NEG}(?![\w-])", re.IGNORECASE)

#: Where a clause ends inside a sentence.
CLAUSE_BREAK = re.compile(
    r";|,\s|\s(?:and|but|while|whereas|und|aber|während|et|mais|tandis que|y|pero|mientras)\s"
    r"|\s[–—]\s", re.IGNORECASE)
#: "a to b" and its kin between two numbers of a range.
RANGE_JOIN = re.compile(r"^\s*(?:-|–|—|\.\.|…|to|bis|à|a|hasta)\s*$", re.IGNORECASE)
BETWEEN = re.compile(r"(?:between|zwischen|entre)\s*$", re.IGNORECASE)
BETWEEN_JOIN = re.compile(r"^\s*(?:and|und|et|y)\s*$", re.IGNORECASE)
