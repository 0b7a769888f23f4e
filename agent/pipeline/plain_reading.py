"""Questions the system answers from its readings alone, without a model step.

"What is the discharge pressure of P-101?" asks for values. When the prefetch read exactly
the tags the question names, with nothing else (no limit check, history, alarms, manuals
or incidents), and the question asks for nothing beyond the values (no why, no advice, no
judgement), the system's own sentences ("<tag> is <value> <unit> at <time> UTC", with the
limit a value is outside of and the quality when it is not good) are the whole answer:
grounded by construction, and seconds faster than a model writing the same sentence.
Everything else still goes to the model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agent.pipeline.evidence import Evidence

#: How a question asking for a value opens (English, German, French, Spanish).
_OPENERS = re.compile(
    r"^\s*(?:and\s+|now\s+|please\s+)?(?:"
    r"what(?:'s|\s+is|\s+are|\s+was)?\s+(?:the\s+)?(?:current|present|latest|live|actual)?|"
    r"how\s+(?:high|much|hot|warm|cold|fast|full|low)\s+(?:is|are)|"
    r"(?:show|tell|give)\s+me|read|current|"
    r"wie\s+(?:hoch|viel|warm|hei[sß]+|schnell|voll)?\s*(?:ist|sind)|was\s+(?:ist|sind)|"
    r"welchen\s+wert|"
    r"quel(?:le)?s?\s+(?:est|sont)|combien|"
    r"cu[aá]l(?:es)?\s+(?:es|son)|qu[eé]\s+(?:valor|presi[oó]n|temperatura|nivel|caudal)"
    r")\b",
    re.IGNORECASE)
#: Words that ask for more than values: a reason, a judgement, advice, a comparison, a
#: time other than now, or a change.
_MORE = frozenset({
    "why", "should", "cause", "causes", "caused", "causing", "explain", "compare",
    "compared", "difference", "versus", "vs", "mean", "means", "meaning", "expected",
    "expect", "safe", "risk", "do", "does", "doing", "did", "happen", "happened",
    "going", "will", "would", "could", "can", "if", "predict", "forecast", "or",
    "but", "setpoint", "setpoints", "set", "change", "raise", "lower", "increase",
    "decrease", "start", "stop", "open", "close",
    "warum", "wieso", "weshalb", "sollte", "sollen", "soll", "oder", "bedeutet",
    "pourquoi", "faut", "devrait", "ou", "signifie",
    "por", "porque", "qué", "debería", "debo", "significa",
})
#: At most this many values make a plain answer; more is a question to summarise.
MAX_TAGS = 3


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_]+", text)}


def asks_values_only(question: str) -> bool:
    """The question opens by asking for a value and asks for nothing else."""
    text = question.strip().lstrip("¿¡")
    opener = _OPENERS.match(text)
    if opener is None or text.count("?") > 1:
        return False
    # The opener's own words ("what", "how high is") are not "more"; the rest must not
    # ask for a reason, a judgement, a comparison or a change.
    return not (_words(text[opener.end():]) & _MORE)


def plain_reading_tags(question: str, asked: Sequence[str],
                       evidence: Sequence[Evidence]) -> list[str] | None:
    """The tags to answer with when the system can answer alone: every piece of evidence is
    a successful read of tags, each read tag was asked, and each asked tag was read (at most
    ``MAX_TAGS``); None when the model must answer."""
    wanted = list(dict.fromkeys(asked))
    if not wanted or len(wanted) > MAX_TAGS or not evidence:
        return None
    if not asks_values_only(question):
        return None
    read: set[str] = set()
    for item in evidence:
        if item.tool != "read_tags" or item.is_error:
            return None
        read |= {str(t) for t in item.args_json().get("tags", [])}
    return wanted if read == set(wanted) else None
