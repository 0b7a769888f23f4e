"""The person's change request, read from their own question: "Please set the HX-101
outlet temperature setpoint to 33 °C", "Stelle den Füllstand-Sollwert von T-101 auf 60".

Deterministic, and from the question only, never from a tool result or the model: the
request is an explicit input of the policy decision (agent.policy.decision.ChangeRequest),
so words planted in a manual, a work order or an OPC UA value never start a change.

A clause is a change request when it starts with a change verb (after words of courtesy:
"please", "can you", "bitte", "veuillez", "por favor"), or, in German, ends with one
("... auf 60 setzen"). "What should I set it to?" asks about a value, and is no request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.pipeline.grounding.text import best_tags
from agent.pipeline.prefetch import SYNONYMS, mentioned_equipment
from agent.pipeline.words import tag_words, words_of
from agent.policy.decision import ChangeRequest, Language
from agent.policy.engine import PROPOSE_TOOL
from tools.opcua.catalog import Catalog

__all__ = ["PROPOSE_TOOL", "ChangeRequest", "asks_for_change", "change_request",
           "other_part"]

_VERBS = {
    "en": r"set|change|adjust|raise|lower|increase|decrease|reduce|put|move|bring|write|"
          r"modify|restore|propose|make",
    "de": r"stelle|stellen|stell|setze|setzen|setz|ändere|ändern|erhöhe|erhöhen|senke|senken|"
          r"verstelle|verstellen|einstellen|stelle\s+\w+\s+ein",
    "fr": r"régler|réglez|règle|régle|reglez|mettre|mettez|mets|fixer|fixez|ajuster|ajustez|"
          r"augmenter|augmentez|baisser|baissez|passer|passez|modifier|modifiez|changer|changez",
    "es": r"ajusta|ajustar|ajuste|poner|pon|ponga|fija|fijar|fije|cambia|cambiar|cambie|"
          r"sube|subir|suba|baja|bajar|baje|establece|establecer|aumenta|aumentar|reduce|"
          r"reducir|modifica|modificar",
}
_ALL_VERBS = "|".join(_VERBS.values())
_CHANGE = re.compile(rf"(?<![\w-])(?:{_ALL_VERBS})(?![\w-])", re.IGNORECASE)
#: Words of courtesy a request may start with.
_COURTESY = (r"(?:please|kindly|pls|can you|could you|would you|will you|i want to|i'd like to|"
             r"i would like to|i need to|we need to|let's|bitte|kannst du|können sie|"
             r"könnten sie|veuillez|pouvez-vous|peux-tu|merci de|s'il vous plaît|svp|"
             r"por favor|puedes|podrías|puede|quiero|necesito)")
_REQUEST_START = re.compile(rf"^\W*(?:{_COURTESY}[\s,]+)*(?:{_ALL_VERBS})(?![\w-])",
                            re.IGNORECASE)
_GERMAN_END = re.compile(r"(?:setzen|stellen|ändern|erhöhen|senken|einstellen|verstellen)"
                         r"\W*$", re.IGNORECASE)
_CLAUSE = re.compile(r"[.;!?]+(?:\s+|$)|,\s+(?:and|then|und|dann|et|puis|y|luego)\s+|"
                     r"\s+(?:and then|and|then|und dann|und|et puis|et|y luego|y)\s+",
                     re.IGNORECASE)
#: "... to 33", "... auf 33", "... à 33", "... a 33", "... en 33".
_TARGET = re.compile(r"(?<![\w-])(?:to|auf|à|a|en)\s+(-?\d+(?:[.,]\d+)?)(?![\w.,]\d)",
                     re.IGNORECASE)
_TARGET_WORDS = re.compile(r"(?<![\w-])(?:to|auf|à|a|en|al)\s+((?:the\s+|den\s+|le\s+|la\s+|"
                           r"el\s+)?[^\W\d_]+)", re.IGNORECASE)
#: Words that stand for words in setpoint tag names.
_SYNONYMS = {**SYNONYMS, "sp": "setpoint", "set": "setpoint", "consigne": "setpoint",
             "consigna": "setpoint", "sollwert": "setpoint", "setpoints": "setpoint",
             "sollwerte": "setpoint", "consignes": "setpoint", "niveau": "level",
             "füllstand": "level", "nivel": "level", "füllstandsollwert": "setpoint"}
_LANG_WORDS: dict[Language, set[str]] = {
    "en": {"the", "of", "to", "and", "please", "set", "setpoint", "raise", "lower"},
    "de": {"der", "die", "das", "den", "von", "auf", "und", "bitte", "sollwert", "stelle",
           "setze", "füllstand", "temperatur"},
    "fr": {"la", "le", "de", "du", "à", "et", "consigne", "niveau", "réglez", "mettez",
           "veuillez", "température"},
    "es": {"el", "la", "del", "de", "a", "y", "consigna", "nivel", "ajusta", "pon",
           "temperatura", "favor"},
}
_CAMEL = re.compile(r"[A-Z][a-z]+|[A-Z]+(?![a-z])|[a-z]+")


def asks_for_change(question: str) -> bool:
    """True when the person's question holds a change verb at all (broad: the injection
    suite checks its normal questions hold none)."""
    return bool(_CHANGE.search(question))


@dataclass(frozen=True)
class _Clause:
    start: int
    end: int
    text: str


def _clauses(question: str) -> list[_Clause]:
    out = []
    start = 0
    for match in _CLAUSE.finditer(question):
        if match.start() > start:
            out.append(_Clause(start, match.start(), question[start:match.start()]))
        start = match.end()
    if start < len(question):
        out.append(_Clause(start, len(question), question[start:]))
    return [c for c in out if c.text.strip()]


def _request_clause(question: str) -> _Clause | None:
    for clause in _clauses(question):
        text = clause.text.strip()
        if _REQUEST_START.match(text) or _GERMAN_END.search(text):
            return clause
    return None


def _language(text: str) -> Language:
    words = {w.lower() for w in re.findall(r"[^\W\d_]+", text)}
    scores = {lang: len(words & vocab) for lang, vocab in _LANG_WORDS.items()}
    for lang, pattern in _VERBS.items():
        if re.search(rf"(?<![\w-])(?:{pattern})(?![\w-])", text, re.IGNORECASE):
            scores[lang] += 2  # type: ignore[index]
    best = max(scores.items(), key=lambda item: item[1])
    return best[0] if best[1] > 0 else "en"


def _words(text: str) -> set[str]:
    words = words_of(text, _SYNONYMS)
    for token in re.findall(r"[^\W\d_]+", text):
        words |= {w.lower() for w in _CAMEL.findall(token)}
    return words | {_SYNONYMS[w] for w in words if w in _SYNONYMS}


def _explicit_tags(text: str, catalog: Catalog) -> list[str]:
    found: list[str] = []
    for name in sorted(catalog.tag_names(), key=len, reverse=True):
        short = name.split(".", 1)[-1]
        patterns = [re.escape(name)]
        if re.search(r"\d", short):
            patterns.append(re.escape(short))  # an ISA-style name says which tag it is
        named = any(re.search(rf"(?<![\w.-]){p}(?![\w-])", text, re.IGNORECASE)
                    for p in patterns)
        if named and not any(name in f or f in name for f in found):
            found.append(name)
    return found


def _short_names(text: str, catalog: Catalog, equipment: list[str]) -> list[str]:
    """'LevelSetpoint on T-101': a variable name written as the catalog spells it."""
    out = []
    for tag in (t for e in equipment for t in catalog.equipment[e].tags):
        short = tag.split(".", 1)[-1]
        # Only a name as distinctive as 'LevelSetpoint' (spelled so); 'level' is a word.
        if len(_CAMEL.findall(short)) < 2 and not re.search(r"\d", short):
            continue
        if re.search(rf"(?<![\w.-]){re.escape(short)}(?![\w-])", text):
            out.append(tag)
    return out


def _target(text: str, catalog: Catalog,
            equipment: list[str]) -> tuple[str | None, tuple[str, ...]]:
    explicit = _explicit_tags(text, catalog) or _short_names(text, catalog, equipment)
    if len(explicit) == 1:
        return explicit[0], ()
    if len(explicit) > 1:
        return None, tuple(explicit)
    if not equipment:
        return None, ()
    words = _words(text)
    candidates = [t for e in equipment for t in catalog.equipment[e].tags]
    best = best_tags(words, candidates)
    if not best:
        setpoints = [t for t in candidates if "setpoint" in tag_words(t)]
        if len(setpoints) == 1:
            return setpoints[0], ()  # "set T-101 to 60": the one setpoint it has
        return None, tuple(setpoints)
    return (best[0], ()) if len(best) == 1 else (None, tuple(best))


def change_request(question: str, catalog: Catalog) -> ChangeRequest | None:
    """The change the person asks for in ``question``, or None when it asks for none."""
    clause = _request_clause(question)
    if clause is None:
        return None
    text = clause.text.strip()
    equipment = mentioned_equipment(text, catalog) or mentioned_equipment(question, catalog)
    tag, candidates = _target(text, catalog, equipment[:2])
    if tag is None and not candidates and not equipment:
        tag, candidates = _target(question, catalog, [])
    targets = list(dict.fromkeys(m.replace(",", ".") for m in _TARGET.findall(text)))
    value: float | None = None
    value_words: str | None = None
    if len(targets) == 1:
        value = float(targets[0])
    elif len(targets) > 1:
        value_words = " or ".join(targets)  # two numbers: which one is meant is not ours to guess
    else:
        words = _TARGET_WORDS.search(text)
        verb = _CHANGE.search(text)
        value_words = (words.group(1) if words else verb.group() if verb else "").lower() \
            or None
        if value_words:
            value_words = re.sub(r"^(?:the|den|le|la|el)\s+", "", value_words)
    return ChangeRequest(text=text, language=_language(question), equipment=tuple(equipment),
                         tag=tag, candidates=candidates, value=value, value_words=value_words)


def other_part(question: str, request: ChangeRequest) -> str | None:
    """What the question asks besides the change ("... and what is the level now?"), or
    None when it asks nothing else."""
    rest = question.replace(request.text, " ", 1)
    rest = re.sub(r"^[\s,.;!?]*(?:and|then|also|und|dann|et|puis|y|luego)?\s*", "", rest,
                  flags=re.IGNORECASE).strip(" ,.;")
    words = [w for w in re.findall(r"[^\W\d_]+", rest)
             if w.lower() not in {"please", "thanks", "thank", "you", "bitte", "danke",
                                  "merci", "gracias", "por", "favor", "svp"}]
    return rest if len(words) >= 2 else None
