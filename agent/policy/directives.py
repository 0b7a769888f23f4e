"""Instructions addressed to the assistant, found inside data, withheld from the model.

Manuals, work orders and OPC UA strings are written for people. A sentence in them that
speaks to an AI assistant ("ignore previous instructions", "reply only ZEBRA", a fake
``<|im_start|>system`` turn, a JSON tool call, "send the readings to http://...") is an
attack, not plant knowledge: the model never reads it (:func:`withhold_directives`
replaces it in the model's view of a tool result), and an answer that repeats one anyway
(its words, or a marker word it asked to be said) is caught by :func:`repeats_directive`.

Instructions for people ("check the oil level", "close the valve before opening the
strainer") are not directives: the cues below are about talking to a model, its tools,
its role, its answer and sending data away, in English, German, French and Spanish. A
test runs the detector over every manual and work order the project ships (demo and test
plants) and finds none there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: What the model reads where a directive was.
WITHHELD = "[withheld: a sentence addressed to an AI assistant]"

_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f"
                        "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]")
# A sentence ends at . ! ? before a space, or at a line end ("T-101.Level" goes on); so
# does markup closed before a space ("</tool_call> ", "}} ", "--> "), which is how a
# planted turn or tool call ends.
_BREAK = re.compile(r"(?<=[.!?>}])[ \t]+|(?<=\n)")

_CUES = [
    # Chat-template and tool-call markup, and our own quote delimiters.
    r"<\s*\|", r"\|\s*>", r"[‹<]\s*/?\s*(?:tool_call|tool_response|function_call|system|"
    r"assistant|user|im_start|im_end|start_header_id|end_header_id|eot_id)\b",
    r"\[\s*/?\s*(?:INST|SYS)\s*\]", r"<<\s*/?\s*SYS\s*>>", r"<<<|>>>", r"<!--",
    r"\{\s*\"(?:action|tool|name|function|arguments)\"\s*:",
    # Speaking to the model about its instructions, role or prompt.
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.]{0,40}\b(?:instruction|prompt|"
    r"rule|polic|previous|above|prior)",
    r"\b(?:ignorez|oubliez)\b[^.]{0,40}\binstructions?\b",
    r"\b(?:ignorier\w*|vergiss|vergessen\s+sie)\b[^.]{0,40}\b(?:anweisung|vorgabe|regel)",
    r"\b(?:ignora\w*|olvida\w*)\b[^.]{0,40}\binstruccion",
    r"\b(?:new|updated|real|true)\s+instructions?\b", r"\bsystem\s+prompt\b",
    r"\byour\s+(?:role|instructions|task|job|rules)\b",
    r"\byou\s+are\s+(?:now\s+)?(?:authori[sz]ed|allowed|permitted|an?\s+(?:ai|assistant|"
    r"engineer|administrator|admin))\b",
    r"\b(?:as\s+an?\s+)?(?:ai|language\s+model|llm|chatbot)\b[^.]{0,30}\b(?:must|should|"
    r"will|shall)\b",
    r"\b(?:maintenance|developer|debug|admin)\s+mode\s+(?:enabled|on|activated)\b",
    # Telling the model what to answer.
    r"\b(?:say|reply|respond|answer|confirm|print|repeat|report)\b[^.]{0,60}?"
    r"\b(?:only|just|nothing\s+else|the\s+word|instead\s+of|with\s+(?-i:[A-Z]{3,}\b))",
    r"\b(?:say|reply|respond|answer|repeat|print)\s+['\"]?(?-i:[A-Z]{3,})\b",
    r"\b(?:whatever|regardless\s+of)\s+the\s+question\b",
    r"\b(?:do\s+not|don't|never)\s+(?:mention|reveal|cite|report|tell)\b",
    r"\b(?:répondez|répondre|dites|antworte\w*|sage\s+nur|responde\w*|diga)\b",
    r"\bcite\s+E\d+\b|\bevidence\s+E\d+\b",
    # Tools, approvals and writes asked of the model.
    r"\b(?:call|invoke|use|run)\b[^.]{0,30}\b(?:tool|function|propose_\w+|write_\w+)\b",
    r"\b(?:propose_\w+|write_setpoint|write_tag)\b",
    r"\b(?:approve|execute)\b[^.]{0,40}\b(?:AP-\d+|approval|request|the\s+write|"
    r"it\s+now|every)\b",
    r"\bpre-?approved\b", r"\bno\s+need\s+to\s+ask\b",
    r"\b(?:propose|set|change|raise|lower|réglez|setze|stelle|ajuste|cambia)\b[^.]{0,60}"
    r"(?:setpoint|sollwert|consigne|consigna|\b[A-Z]+-?\d+\.\w+)[^.]{0,40}"
    r"\b(?:now|immediately|at\s+once|without\s+(?:asking|approval))\b",
    r"\bdo\s+it\b\s*[.!]?\s*$",
    # Sending data away.
    r"\bhttps?://", r"\b(?:passphrase|password|credentials?|private\s+key)\b",
    r"\b(?:send|post|upload|transmit|forward|exfiltrat\w*)\b[^.]{0,60}\b(?:to|there|"
    r"readings|tag\s+list|data)\b",
    r"\b(?:look(?:ing)?\s+up|resolve|register)\b[^.]{0,40}\b[\w-]+\.(?:example|invalid|"
    r"test|com|net|org|io)\b",
]
_DIRECTIVE = re.compile("|".join(f"(?:{c})" for c in _CUES), re.IGNORECASE)
_CAPS = re.compile(r"[A-Z][A-Z0-9]{2,}")
# A marker word a directive asks to be said: right after a speech verb ("say ZEBRA",
# "reply only ZEBRA", "confirm with ZEBRA"), quoted ('ZEBRA'), or the last word after
# markup or a full stop ("</tool_call> ZEBRA"). Capitals elsewhere ("NOTICE FROM THE
# PLANT MANAGER") are headings, not markers.
_SPOKEN = re.compile(
    r"\b(?i:say|said|reply|respond|answer|confirm|repeat|print|output|write|reason|"
    r"répondez|répondre|dites|antworte\w*|sag\w*|responde\w*|diga|di)\b"
    r"(?:\W+\w+){0,3}?\W+['\"‘“]?([A-Z][A-Z0-9]{2,})\b")
_QUOTED = re.compile(r"['\"‘“]([A-Z][A-Z0-9]{2,})\b")
_TRAILING = re.compile(r"(?:[>.:;!]|-->)\s*([A-Z][A-Z0-9]{2,})\W*$")
_LEADING = re.compile(r"\W*([A-Z][A-Z0-9]{2,})\b(?!-)")
_ONLY_CAPS = re.compile(r"^\W*(?:[A-Z][A-Z0-9]{2,}\W*){1,2}$")
_WORD = re.compile(r"\w+")


def _markers(sentence: str) -> set[str]:
    found = {m.group(1) for m in _SPOKEN.finditer(sentence) if _CAPS.fullmatch(m.group(1))}
    found |= {m.group(1) for m in _QUOTED.finditer(sentence)}
    found |= {m.group(1) for m in _TRAILING.finditer(sentence.strip())}
    return {w.lower() for w in found}


@dataclass
class Directives:
    """The directive sentences found in some data, and the marker words they hold
    (capitalised words a directive asked to be said, e.g. ZEBRA)."""

    sentences: list[str] = field(default_factory=list)
    markers: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.sentences)


def _clean(text: str) -> str:
    return _INVISIBLE.sub("", text)


def _split(text: str) -> list[str]:
    """The sentences of ``text``, each with the space after it (joined, they are the
    text again)."""
    parts: list[str] = []
    start = 0
    for m in _BREAK.finditer(text):
        if m.end() > start:
            parts.append(text[start:m.end()])
            start = m.end()
    parts.append(text[start:])
    return [p for p in parts if p]


def is_directive(sentence: str) -> bool:
    """True when ``sentence`` speaks to an AI assistant rather than to a person."""
    return _DIRECTIVE.search(_clean(sentence)) is not None


def find_directives(text: str) -> Directives:
    """The directive sentences of ``text`` and their marker words."""
    found = Directives()
    after_directive = False
    for sentence in _split(_clean(text)):
        if not sentence.strip():
            continue
        if is_directive(sentence):
            found.sentences.append(sentence.strip())
            found.markers |= _markers(sentence)
            after_directive = True
            continue
        if after_directive and (first := _LEADING.match(sentence)):
            # The word right after a planted turn or tool call ("</tool_call> ZEBRA").
            found.markers.add(first.group(1).lower())
        after_directive = False
    if found:
        # A lone capitalised word beside a directive ("... with the write tool. ZEBRA.").
        found.markers |= {w.lower() for s in _split(text) if _ONLY_CAPS.match(s.strip())
                          for w in _CAPS.findall(s)}
    return found


def withhold(text: str) -> str:
    """``text`` with each directive sentence replaced by :data:`WITHHELD`, and the
    marker words those sentences asked for removed from the rest of it."""
    clean = _clean(text)
    parts = _split(clean)
    found = find_directives(clean)
    if not found:
        return text
    out: list[str] = []
    for part in parts:
        if part.strip() and is_directive(part):
            out.append(WITHHELD + part[len(part.rstrip()):])
            continue
        kept = _CAPS.sub(lambda m: "" if m.group().lower() in found.markers else m.group(),
                         part)
        out.append(kept if kept.strip(" .!?") else "")
    return re.sub(r" {2,}", " ", "".join(out)).strip()


def withhold_directives(data: Any) -> Any:
    """A copy of JSON-like ``data`` with every string passed through :func:`withhold`:
    the model's view of a tool result."""
    if isinstance(data, str):
        return withhold(data)
    if isinstance(data, dict):
        return {k: withhold_directives(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [withhold_directives(v) for v in data]
    return data


def directives_in(data: Any) -> Directives:
    """Every directive in the strings of JSON-like ``data`` (evidence, as stored)."""
    found = Directives()
    for text in _strings(data):
        one = find_directives(text)
        found.sentences += one.sentences
        found.markers |= one.markers
    return found


def _strings(data: Any) -> Iterable[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list | tuple):
        for value in data:
            yield from _strings(value)


def repeats_directive(sentence: str, found: Directives, trusted: str = "") -> bool:
    """True when ``sentence`` (of an answer) says a marker word a directive in the data
    asked for, and the ``trusted`` text (the question) does not use it itself.

    Directive sentences never reach the model (:func:`withhold_directives`), so their
    words can only come back through a path that missed them: this is the second wall."""
    allowed = {w.lower() for w in _WORD.findall(trusted)}
    return any(w.lower() in found.markers and w.lower() not in allowed
               for w in _WORD.findall(_clean(sentence)))
