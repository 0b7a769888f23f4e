"""Evidence prefetch: the obvious reads for a question, chosen by deterministic rules.

A 0.5B model plans poorly but explains well. When a question names equipment or a
measured quantity, asks about alarms or limits, or about a trend, the system reads that
data first through the normal tool path (policy gate, audit, evidence ids), so the
model's first step already sees the readings. The model can still call more tools.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agent.pipeline import semantic_match
from agent.pipeline.words import tag_words, words_of
from tools.opcua.catalog import Catalog

#: Question words that stand for words in tag names.
SYNONYMS = {
    "temp": "temperature", "temps": "temperature", "hot": "temperature",
    "warm": "temperature", "heat": "temperature", "cold": "temperature",
    "vib": "vibration", "vibrating": "vibration", "vibrations": "vibration",
    "amps": "current", "amp": "current", "amperage": "current",
    "flowrate": "flow", "flowing": "flow", "throughput": "throughput",
    "rpm": "speed", "fast": "speed", "level": "level", "full": "level",
    "dp": "differential", "clogged": "differential", "clogging": "differential",
    "power": "power", "kw": "power", "pressures": "pressure", "bearings": "bearing",
    # The commonest words of shift questions in French, German and Spanish.
    "température": "temperature", "temperatur": "temperature", "temperatura": "temperature",
    "palier": "bearing", "lager": "bearing", "rodamiento": "bearing", "cojinete": "bearing",
    "pression": "pressure", "druck": "pressure", "presión": "pressure", "presion": "pressure",
    "débit": "flow", "debit": "flow", "durchfluss": "flow", "caudal": "flow",
    "niveau": "level", "füllstand": "level", "nivel": "level",
    "schwingung": "vibration", "vibración": "vibration",
    "vitesse": "speed", "drehzahl": "speed", "velocidad": "speed",
    "courant": "current", "strom": "current", "corriente": "current",
    "alarme": "alarm", "alarmes": "alarm", "alarmas": "alarm",
    "grenzwert": "limit", "grenzwerte": "limit", "límites": "limit", "limites": "limit",
}
ALARM_WORDS = {"alarm", "alarms", "alert", "alerts", "alarming", "tripped"}
#: Common words that say nothing about the plant, even when a description contains them.
STOP_WORDS = {"what", "which", "when", "where", "will", "would", "could", "with", "from",
              "that", "this", "these", "there", "their", "they", "have", "been", "being",
              "into", "onto", "ahead", "about", "after", "than", "then", "them", "some",
              "each", "very", "just", "only", "also", "does", "tomorrow", "today"}
DOCUMENT_WORDS = {"manual", "manuals", "runbook", "runbooks", "procedure", "procedures",
                  "documentation", "instructions", "troubleshoot", "troubleshooting",
                  "should", "fix", "repair", "recommended", "recommend"}
INCIDENT_WORDS = {"incident", "incidents", "before", "previously", "similar", "happened",
                  "recurring", "again"}
#: Words that make a question about the plant even when it names no tag or equipment.
PLANT_WORDS = {"plant", "line", "equipment", "machine", "machines", "asset", "assets", "tag",
               "tags", "reading", "readings", "value", "values", "sensor", "sensors", "fault",
               "faults", "failure", "maintenance", "running", "shift", "process", "operating",
               "production", "unit", "units", "pump", "pumps", "tank", "filter", "motor",
               "compressor", "conveyor", "exchanger", "cooler", "valve", "belt"}
LIMIT_WORDS = {"limit", "limits", "abnormal", "outside", "exceed", "exceeds", "exceeding",
               "range", "ranges", "normal", "anomaly", "anomalies", "wrong", "problem",
               "problems", "healthy", "ok", "okay", "status"}
HISTORY_WORDS = {"trend", "trending", "history", "historical", "average", "mean", "rising",
                 "falling", "increasing", "decreasing", "past", "last", "since", "over",
                 "ago", "highest", "lowest", "maximum", "minimum", "peak", "was", "were",
                 # German, French, Spanish
                 "war", "waren", "letzten", "letzte", "höchste", "niedrigste", "mittlere",
                 "durchschnitt", "steigt", "fällt", "verlauf", "dernière", "dernières",
                 "moyenne", "hace", "último", "últimos", "promedio", "media",
                 # the past and its extremes in French and Spanish ("la plus haute",
                 # "la máxima de la última hora")
                 "était", "étaient", "maximale", "minimale", "dernier", "derniers",
                 "última", "últimas", "fue", "fueron", "era", "máxima", "máximo", "mínima",
                 "mínimo", "medio"}
#: Words asking for a direction: the history must carry sample points to tell it.
TREND_WORDS = {"trend", "trending", "rising", "falling", "increasing", "decreasing",
               "steigt", "fällt", "sinkt", "steigend", "fallend", "monte", "baisse",
               "augmente", "diminue", "sube", "baja", "aumenta", "disminuye"}
#: "the last 30 minutes", "20 minutes ago", "letzten 2 Stunden": the window asked for.
_WINDOW = re.compile(r"(\d+(?:[.,]\d+)?)\s*(min|minute|minutes|minuten|minuto|minutos|h|hour|"
                     r"hours|stunde|stunden|heure|heures|hora|horas)\b", re.IGNORECASE)

MAX_TAGS = 6
MAX_EQUIPMENT = 2


@dataclass(frozen=True)
class PlannedCall:
    """A tool call the system makes on the asker's behalf before the model runs."""

    tool: str
    args: dict[str, Any] = field(default_factory=dict)
    #: The tags the question names (a read's tags may include close ones): the answer
    #: must state each.
    asked: tuple[str, ...] = ()


def _words(text: str) -> set[str]:
    return words_of(text, SYNONYMS)


def mentioned_equipment(question: str, catalog: Catalog) -> list[str]:
    """Equipment names in the question ('P-101', also written 'p101' or 'P 101')."""
    found = []
    for name in catalog.equipment_names():
        chunks = re.findall(r"[A-Za-z]+|[0-9]+", name)
        if not chunks:
            continue
        pattern = r"[\s_-]?".join(re.escape(c) for c in chunks)
        if re.search(rf"(?<![A-Za-z0-9]){pattern}(?![0-9])", question, re.IGNORECASE):
            found.append(name)
    return found


def _best_tags(words: set[str], candidates: list[str]) -> list[str]:
    scored = []
    for tag in candidates:
        score = len(tag_words(tag) & words)
        if score:
            scored.append((score, tag))
    if not scored:
        return []
    top = max(score for score, _ in scored)
    return [tag for score, tag in scored if score == top]


_CLAUSE = re.compile(r",|;|\s(?:and|und|et|y)\s", re.IGNORECASE)


def named_tags(words: set[str], candidates: list[str]) -> list[str]:
    """The candidates ``words`` name best: most words shared, then fewest words the
    question does not say ("the level" names T-101.Level, not T-101.LevelSetpoint)."""
    scored = []
    for tag in candidates:
        mine = tag_words(tag)
        if mine & words:
            scored.append((len(mine & words), -len(mine - words), tag))
    if not scored:
        return []
    top = max((a, b) for a, b, _ in scored)
    return [t for a, b, t in scored if (a, b) == top]


def in_scope(question: str, catalog: Catalog) -> bool:
    """False when the question shares no word with the plant, its tags or equipment
    ("will it rain tomorrow?"): no tool of this agent can answer it."""
    if mentioned_equipment(question, catalog):
        return True
    semantics = semantic_match.semantics_of(catalog)
    mapping = semantic_match.map_question(question, semantics)
    if mapping.tags or mapping.equipment or mapping.missing_equipment \
            or semantic_match.asks_for_kind(question, semantics):
        return True
    vocabulary = set(PLANT_WORDS) | ALARM_WORDS | LIMIT_WORDS | DOCUMENT_WORDS | INCIDENT_WORDS
    for equipment in catalog.equipment.values():
        vocabulary |= {w for w in _words(equipment.description or "") if len(w) > 3}
    vocabulary -= STOP_WORDS
    for tag in catalog.tag_names():
        vocabulary |= tag_words(tag)
    return bool(_words(question) & vocabulary)


_AGO = re.compile(r"(\d+(?:[.,]\d+)?)\s*(min|minute|minutes|h|hour|hours)\s+ago\b"
                  r"|\bvor\s+(\d+(?:[.,]\d+)?)\s*(min|minuten|stunde|stunden)\b"
                  r"|\bil y a\s+(\d+(?:[.,]\d+)?)\s*(min|minutes|heure|heures)\b"
                  r"|\bhace\s+(\d+(?:[.,]\d+)?)\s*(min|minuto|minutos|hora|horas)\b",
                  re.IGNORECASE)


def ago_minutes(question: str) -> float | None:
    """'20 minutes ago', 'vor 20 Minuten', 'il y a 20 minutes', 'hace 20 minutos': the
    past moment a question asks about, in minutes before now (None: not asked)."""
    match = _AGO.search(question)
    if match is None:
        return None
    groups = [g for g in match.groups() if g]
    amount = float(groups[0].replace(",", "."))
    return amount * (60.0 if groups[1].lower()[0] in "hs" else 1.0)


def window_minutes(question: str) -> float:
    """The history window a question asks for (an hour when it names none); a value
    'N minutes ago' needs a window reaching back past it."""
    match = _WINDOW.search(question)
    if match is None:
        return 60.0
    amount = float(match[1].replace(",", "."))
    minutes = amount * (60.0 if match[2].lower()[0] in "hs" else 1.0)
    return max(5.0, min(minutes * (1.5 if "ago" in question.lower() or " vor " in
                                   question.lower() else 1.0), 24 * 60.0))


def _history_args(tag: str, window: float, words: set[str], question: str = ""
                  ) -> dict[str, Any]:
    args: dict[str, Any] = {"tag": tag, "window_minutes": window}
    if words & TREND_WORDS or ago_minutes(question) is not None:
        args |= {"aggregate": "raw", "max_points": 30}
    return args


def _semantic_plan(question: str, catalog: Catalog, words: set[str]
                   ) -> list[PlannedCall] | None:
    """The reads the tag semantics choose (None: they name nothing, use the names)."""
    semantics = semantic_match.semantics_of(catalog)
    kind = semantic_match.asks_for_kind(question, semantics)
    if kind is not None:
        return [PlannedCall("list_equipment", {"eq_class": kind})]
    sensors = semantic_match.asks_for_sensors(question, semantics)
    if len(sensors) == 1:
        tags = [t.tag for t in semantics.tags_of(sensors[0].name)]
        return [PlannedCall("list_equipment", {"contains": sensors[0].name})] + (
            [PlannedCall("read_tags", {"tags": tags})] if len(tags) <= 2 * MAX_TAGS else [])
    mapping = semantic_match.map_question(question, semantics)
    if not mapping.tags or len(mapping.tags) > MAX_TAGS:
        return None
    calls = [PlannedCall("read_tags", {"tags": mapping.tags}, asked=tuple(mapping.tags))]
    if words & HISTORY_WORDS:
        window = window_minutes(question)
        calls += [PlannedCall("tag_history", _history_args(t, window, words, question))
                  for t in mapping.tags[:2]]
    return calls


def plan(question: str, catalog: Catalog, available: set[str]) -> list[PlannedCall]:
    """The reads to make before the first model step (possibly none)."""
    words = _words(question)
    semantic = _semantic_plan(question, catalog, words)
    if semantic is not None:
        return _extras(question, catalog, words, semantic, available,
                       read=any(c.tool == "read_tags" for c in semantic))
    return _name_plan(question, catalog, available, words)


def _extras(question: str, catalog: Catalog, words: set[str], calls: list[PlannedCall],
            available: set[str], *, read: bool) -> list[PlannedCall]:
    """Alarms, limits, manuals and incidents a question also asks about."""
    calls = list(calls)
    equipment = mentioned_equipment(question, catalog)[:MAX_EQUIPMENT]
    if words & ALARM_WORDS:
        calls.append(PlannedCall("active_alarms"))
    if words & LIMIT_WORDS and not read:
        args: dict[str, Any] = {"equipment": equipment} if equipment else {}
        calls.append(PlannedCall("check_limits", args))
    if words & DOCUMENT_WORDS:
        calls.append(PlannedCall("search_documents", {"query": question[:300], "k": 3}))
    if words & INCIDENT_WORDS:
        incident: dict[str, Any] = {"symptoms": question[:600], "k": 3}
        if equipment:
            incident["equipment"] = equipment[0]
        calls.append(PlannedCall("find_similar_incidents", incident))
    return [c for c in calls if c.tool in available]


def _name_plan(question: str, catalog: Catalog, available: set[str],
               words: set[str]) -> list[PlannedCall]:
    """The reads chosen by the words of tag names (when the semantics name no tag)."""
    equipment = mentioned_equipment(question, catalog)[:MAX_EQUIPMENT]
    calls: list[PlannedCall] = []
    candidates = (
        [t for e in equipment for t in catalog.equipment[e].tags]
        if equipment
        else catalog.tag_names()
    )
    tags = _best_tags(words, candidates)
    # "The level of T-101 and its operator note": each part names its own quantity.
    asked: list[str] = []
    for clause in _CLAUSE.split(question):
        asked += [t for t in named_tags(_words(clause) - STOP_WORDS, candidates)
                  if t not in asked]
    if len(asked) > 1 and len(dict.fromkeys([*tags, *asked])) <= MAX_TAGS:
        tags = list(dict.fromkeys([*tags, *asked]))
    if equipment and not tags:
        calls += [PlannedCall("read_equipment", {"equipment": e}) for e in equipment]
    elif tags and len(tags) <= MAX_TAGS and (equipment or len(tags) < len(candidates)):
        calls.append(PlannedCall("read_tags", {"tags": tags},
                                 asked=tuple(t for t in asked if t in tags)))
        if words & HISTORY_WORDS and len(tags) == 1:
            calls.append(PlannedCall("tag_history", _history_args(
                tags[0], window_minutes(question), words, question)))
    return _extras(question, catalog, words, calls, available, read=bool(tags))
