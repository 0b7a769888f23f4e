"""Change requests in a person's question: "Please set the HX-101 outlet temperature
setpoint to 33 °C".

Two deterministic rules, both read only the human's question, never a tool result:

- :func:`setpoint_request` turns an explicit "set <equipment quantity> to <number>" into a
  planned ``propose_setpoint_change`` call, so the proposal does not depend on a small
  model choosing the tool. It goes through the normal gated tool path: the policy engine
  decides, the approval service checks bounds, and nothing is written until a person
  approves (no tool approves);
- :func:`asks_for_change` says whether the question asks for a change at all (a change
  verb; the number may be left to the model, e.g. "Raise the tank level setpoint"). The loop
  refuses every proposal or write tool call in a question that does not: text planted in
  a manual, a work order or an OPC UA string can then never create an approval request.
"""

from __future__ import annotations

import re
from typing import Any

from agent.loop.words import tag_words, words_of
from tools.opcua.catalog import Catalog

PROPOSE_TOOL = "propose_setpoint_change"
#: Verbs of a change request, in the languages the prefetch knows.
_VERBS = (r"set|change|adjust|raise|lower|increase|decrease|reduce|put|move|bring|fill|"
          r"drain|write|modify|restore|propose|"
          r"régler|reglez|mettre|mettez|augmenter|baisser|stelle|stellen|setze|setzen|"
          r"erhöhen|senken|ajusta|ajustar|poner|pon|subir|bajar")
_CHANGE = re.compile(rf"\b(?:{_VERBS})\b", re.IGNORECASE)
#: "... to 33", "... to 33.5 °C", "... auf 33", "... à 33", "... a 33".
_TARGET = re.compile(r"\b(?:to|auf|à|a|en)\s+(-?\d+(?:[.,]\d+)?)", re.IGNORECASE)
_TARGET_NEAR_VERB = re.compile(rf"\b(?:{_VERBS})\b.*\b(?:to|auf|à|a|en)\s+-?\d",
                               re.IGNORECASE | re.DOTALL)
#: Words of a question that stand for words in setpoint tag names.
_SYNONYMS = {"temp": "temperature", "pressures": "pressure", "température": "temperature",
             "temperatur": "temperature", "druck": "pressure", "pression": "pressure",
             "niveau": "level", "füllstand": "level", "nivel": "level", "sp": "setpoint",
             "set": "setpoint", "consigne": "setpoint", "sollwert": "setpoint"}


def asks_for_change(question: str) -> bool:
    """True when the person's question asks to set or change something."""
    return bool(_CHANGE.search(question))


def _setpoint_tags(catalog: Catalog, equipment: list[str]) -> list[str]:
    return [t for e in equipment for t in catalog.equipment[e].tags
            if t.split(".", 1)[-1].lower().endswith("setpoint")]


def setpoint_request(
    question: str, catalog: Catalog, equipment: list[str]
) -> dict[str, Any] | None:
    """Arguments of ``propose_setpoint_change`` for an explicit request in ``question``
    (``equipment``: the equipment it names), or None when it is not one unambiguous
    setpoint and number."""
    if len(equipment) != 1 or not asks_for_change(question):
        return None
    targets = _TARGET.findall(question)
    if len(set(targets)) != 1 or not _TARGET_NEAR_VERB.search(question):
        return None  # two numbers: which one is meant is not for a rule to guess
    candidates = _setpoint_tags(catalog, equipment)
    words = words_of(question, _SYNONYMS)
    scored = sorted(((len(tag_words(t) & words), t) for t in candidates), reverse=True)
    if not scored or scored[0][0] == 0 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return {
        "tag": scored[0][1],
        "value": float(targets[0].replace(",", ".")),
        "reason": f"requested by the asker: {question.strip()[:300]}",
        "evidence_ids": [],
    }
