"""An answer's text taken apart: sentences, clauses, the names they mention, the numbers
and times they state, and what each number claims to be.

Everything here is deterministic and reads the text only; the check (check.py) compares
the parts with the facts of the evidence.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from agent.pipeline.grounding import vocabulary as vocab
from agent.pipeline.prefetch import STOP_WORDS, SYNONYMS
from agent.pipeline.words import tag_words, words_of

Role = Literal["time", "duration", "limit", "request", "history", "value", "number"]
MentionKind = Literal["tag", "condition", "equipment", "unknown", "record", "evidence", "time"]

#: Units recognised after a number even when the catalog does not list them.
COMMON_UNITS = (
    "°C", "degC", "K", "bar", "mbar", "kPa", "Pa", "psi", "m³/h", "m3/h", "L/min", "l/min",
    "kg/h", "t/h", "mm/s", "m/s", "rpm", "Hz", "A", "V", "kW", "W", "kWh", "%", "mm",
    "m", "kN", "N", "kg", "t",
)

_SENTENCE = re.compile(r".+?(?:[.!?](?:\s*\[[A-Z]+\d+\])*(?=\s|$)|\n|$)", re.DOTALL)
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:[.,]\d+)?(?![\w])")
_IDENT = re.compile(r"\b[A-Z]{1,4}[-_]\d{1,5}(?:\.[A-Za-z]\w*)?\b")
_EVIDENCE = re.compile(r"\[?\b[EHT]\d+\b\]?")
_RECORD = re.compile(r"\b[A-Z]{2,3}-(?:\d{8}-)?(?=[0-9a-f]*[a-f])[0-9a-f]{6,}\b")
#: An alarm condition after its tag: 'M-101.Torque.High' names the alarm, not a reading.
_CONDITION = re.compile(r"^\.(?:HighHigh|LowLow|High|Low|HiHi|LoLo|Hi|Lo|HH|LL|H|L)\b")
_TIME = re.compile(
    r"\b\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d)?(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?)?\b"
    r"|\b\d{1,2}:\d\d(?::\d\d)?\b")


@dataclass(frozen=True)
class PlantNames:
    """What the check recognises as a tag, an equipment or a unit."""

    tags: Sequence[str] = ()
    equipment: Sequence[str] = ()
    units: Sequence[str] = ()
    tag_units: Mapping[str, str | None] = field(default_factory=dict)
    #: Tags of equipment the tag semantics group (a flat gateway's 'RW PUMP 1').
    members: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def labels(self) -> dict[str, str]:
        """Tag -> the grouped equipment it belongs to (for the system's sentences)."""
        return {t: eq for eq, tags in self.members.items() for t in tags}

    def tags_of(self, equipment: str) -> list[str]:
        """The tags of one equipment (grouped by the semantics, or by the
        '<equipment>.<variable>' naming)."""
        if equipment in self.members:
            return list(self.members[equipment])
        return [t for t in self.tags if t.split(".", 1)[0] == equipment]

    @functools.cached_property
    def _patterns(self) -> tuple[re.Pattern[str] | None, dict[str, str], re.Pattern[str]]:
        full = sorted(self.tags, key=len, reverse=True)
        shorts: dict[str, list[str]] = {}
        for tag in self.tags:
            short = tag.split(".", 1)[-1]
            # Only an ISA-style short name (VT_101, FIC-12) names one tag on its own.
            if short != tag and re.search(r"\d", short):
                shorts.setdefault(short.lower(), []).append(tag)
        unique = {s: ts[0] for s, ts in shorts.items() if len(ts) == 1}
        names = [re.escape(n) for n in full] + [re.escape(s) for s in
                                                sorted(unique, key=len, reverse=True)]
        tag_re = re.compile(r"(?<![\w.-])(?:" + "|".join(names) + r")(?![\w-])",
                            re.IGNORECASE) if names else None
        eq_parts = []
        for name in sorted(self.equipment, key=len, reverse=True):
            chunks = re.findall(r"[A-Za-z]+|[0-9]+", name)
            if chunks:
                eq_parts.append(r"[\s_-]?".join(re.escape(c) for c in chunks))
        eq_re = re.compile(r"(?<![A-Za-z0-9.])(?:" + "|".join(eq_parts) + r")(?![0-9A-Za-z])",
                           re.IGNORECASE) if eq_parts else re.compile(r"(?!x)x")
        return tag_re, unique, eq_re

    def unit_pattern(self) -> re.Pattern[str]:
        """A number's unit: the longest known unit right after it."""
        return _unit_pattern(tuple(sorted({*self.units, *COMMON_UNITS} - {""})))


@functools.lru_cache(maxsize=32)
def _unit_pattern(units: tuple[str, ...]) -> re.Pattern[str]:
    ordered = sorted(units, key=len, reverse=True)
    return re.compile(r"^\s?(" + "|".join(re.escape(u) for u in ordered) + r")(?![\w/])")


@dataclass(frozen=True)
class Mention:
    """A name in the text: a tag, an equipment, an identifier the catalog does not have,
    a record id, an evidence id or a time."""

    start: int
    end: int
    kind: MentionKind
    text: str
    tag: str | None = None
    equipment: str | None = None


@dataclass
class Number:
    """A number stated in the text and what it claims to be."""

    start: int
    end: int
    text: str
    unit: str | None
    role: Role = "number"
    pair: Number | None = None  # the other end of a range
    #: For a history number, the statistic the text says it is (mean, max, min, change;
    #: "slope" or "slope per minute" for a rate).
    statistic: str | None = None


@dataclass
class Clause:
    """A part of a sentence that states one thing about one subject."""

    start: int
    end: int
    text: str
    mentions: list[Mention]
    numbers: list[Number]


@dataclass
class Sentence:
    """A sentence with its clauses; ``start``/``end`` locate it in the whole text."""

    start: int
    end: int
    text: str
    clauses: list[Clause]
    mentions: list[Mention]


def sentences(text: str) -> list[tuple[int, int, str]]:
    """(start, end, text) of each sentence, with the citations that follow it."""
    out = []
    for match in _SENTENCE.finditer(text):
        chunk = match.group()
        if chunk.strip():
            lead = len(chunk) - len(chunk.lstrip())
            out.append((match.start() + lead, match.end(), chunk.strip()))
    return out


def mentions(text: str, names: PlantNames) -> list[Mention]:
    """Names, ids and times in ``text``, left to right, never overlapping."""
    tag_re, shorts, eq_re = names._patterns
    found: list[Mention] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    def add(m: Mention) -> None:
        if free(m.start, m.end):
            found.append(m)
            taken.append((m.start, m.end))

    for match in _TIME.finditer(text):
        add(Mention(match.start(), match.end(), "time", match.group()))
    for match in _RECORD.finditer(text):
        add(Mention(match.start(), match.end(), "record", match.group()))
    if tag_re is not None:
        lowered_tags = {t.lower(): t for t in names.tags}
        for match in tag_re.finditer(text):
            word = match.group().lower()
            tag = lowered_tags.get(word) or shorts.get(word)
            if tag:
                condition = _CONDITION.match(text[match.end():])
                end = match.end() + (condition.end() if condition else 0)
                add(Mention(match.start(), end, "condition" if condition else "tag",
                            text[match.start():end], tag=tag, equipment=tag.split(".", 1)[0]))
    by_compact = {re.sub(r"[\s_-]", "", e).lower(): e for e in names.equipment}
    for match in eq_re.finditer(text):
        name = by_compact.get(re.sub(r"[\s_-]", "", match.group()).lower())
        if name:
            add(Mention(match.start(), match.end(), "equipment", match.group(), equipment=name))
    for match in _EVIDENCE.finditer(text):
        add(Mention(match.start(), match.end(), "evidence", match.group()))
    for match in _IDENT.finditer(text):
        add(Mention(match.start(), match.end(), "unknown", match.group()))
    return sorted(found, key=lambda m: m.start)


def numbers(text: str, spans: Iterable[Mention], names: PlantNames) -> list[Number]:
    """The numbers of ``text`` outside ``spans``, each with the unit written after it."""
    taken = [(m.start, m.end) for m in spans]
    units = names.unit_pattern()
    out = []
    for match in _NUMBER.finditer(text):
        if any(s <= match.start() < e for s, e in taken):
            continue  # inside a name, a time or the unit of the number before ('1/min')
        if re.match(r"/[^\W\d_]", text[match.end():]):
            continue  # a unit of its own, '1/min'
        unit = units.match(text[match.end():])
        out.append(Number(match.start(), match.end(), match.group(),
                          unit.group(1) if unit else None))
        if unit:
            taken.append((match.end(), match.end() + unit.end()))
    return out


def parse(text: str, names: PlantNames) -> list[Sentence]:
    """The sentences of ``text`` with their clauses, mentions and numbers (roles set)."""
    out = []
    for start, end, chunk in sentences(text):
        spans = mentions(chunk, names)
        nums = numbers(chunk, spans, names)
        _pair_ranges(chunk, nums)
        clauses = _clauses(chunk, spans, nums)
        for clause in clauses:
            for number in clause.numbers:
                number.role = _role(chunk, clause, number)
                if number.role == "history":
                    number.statistic = _statistic(chunk, clause, number)
        out.append(Sentence(start, end, chunk, clauses, spans))
    return out


def _pair_ranges(text: str, nums: list[Number]) -> None:
    """Mark "30 to 70", "0-4.5", "between 40 and 70" as the two ends of a range."""
    for a, b in itertools.pairwise(nums):
        between = text[a.end:b.start]
        if a.unit:
            between = re.sub(rf"^\s?{re.escape(a.unit)}", "", between)
        joined = between.strip().lower()
        if vocab.BETWEEN_JOIN.match(between) and vocab.BETWEEN.search(text[:a.start]):
            a.pair, b.pair = b, a
        elif vocab.RANGE_JOIN.match(between):
            if joined in ("to", "a", "à", "bis", "hasta") and not _limit_context(text, a):
                continue  # "set it from 55 to 60" is a change, not a range
            a.pair, b.pair = b, a


def _limit_context(text: str, number: Number) -> bool:
    before = text[max(0, number.start - 60):number.start]
    return bool(vocab.LIMIT.search(before) or re.search(r"normal\w*\s*\(?$|normal\w*\s+\S+\s*$",
                                                         before, re.IGNORECASE))


def _clauses(text: str, spans: list[Mention], nums: list[Number]) -> list[Clause]:
    protected = [(n.start, n.pair.end) for n in nums
                 if n.pair is not None and n.start < n.pair.start]
    cuts = [0]
    for match in vocab.CLAUSE_BREAK.finditer(text):
        if any(s <= match.start() < e for s, e in protected):
            continue
        at, end = match.start(), match.end()
        if match.group().startswith(",") and at > 0 and text[at - 1].isdigit() \
                and end < len(text) and text[end].isdigit():
            continue  # a decimal comma
        cuts.append(match.start())
    cuts.append(len(text))
    out = []
    for a, b in itertools.pairwise(cuts):
        if b <= a:
            continue
        out.append(Clause(a, b, text[a:b], [m for m in spans if a <= m.start < b],
                          [n for n in nums if a <= n.start < b]))
    return out


def _rate(text: str, number: Number) -> str | None:
    """The rate's time ("h" or "min") when ``number`` is a rate, else None."""
    after = text[number.end:]
    rest = after[len(after) - len(after.lstrip()) + len(number.unit):] if number.unit else after
    found = vocab.RATE.match(rest) or (number.unit is None
                                       and vocab.RATE_UNKNOWN_UNIT.match(after))
    if not found:
        return None
    return "min" if "min" in found.group().lower() else "h"


def _is_rate(text: str, number: Number) -> bool:
    return _rate(text, number) is not None


def _statistic(text: str, clause: Clause, number: Number) -> str | None:
    """The statistic a history number is said to be: a rate ("2.1 mbar per hour") is the
    trend's slope; else the statistic the words before it name, with the names in the
    clause blanked ('Differenzdruck' or 'MaxTemp' in a tag's name are no statistic)."""
    per = _rate(text, number)
    if per is not None:
        return "slope" if per == "h" else "slope per minute"
    before = list(text[clause.start:number.start])
    for mention in clause.mentions:
        for i in range(max(mention.start, clause.start), min(mention.end, number.start)):
            before[i - clause.start] = " "
    return vocab.statistic_before("".join(before))


def _role(text: str, clause: Clause, number: Number) -> Role:
    after = text[number.end:]
    if re.match(rf"^\s?(?:{vocab.DURATION_UNITS})\b", after, re.IGNORECASE):
        return "duration"
    if _is_rate(text, number):
        return "history"
    if number.pair is not None:
        return "limit"
    before = text[clause.start:number.start]
    if vocab.LIMIT.search(before):
        return "limit"
    if vocab.REQUEST.search(before):
        return "request"
    if vocab.HISTORY.search(before):
        return "history"
    near = " ".join(before.split()[-3:])
    if vocab.PLAIN.search(near):
        return "number"
    if number.unit is None and re.match(r"^\s+[^\W\d_]{2,}", after):
        return "number"  # a count: "47 tags", "3 alarms"
    if number.unit is not None or vocab.COPULA.search(near):
        return "value"
    return "number"


def clause_words(text: str) -> set[str]:
    """The words of a clause that may name a quantity (stop words removed)."""
    return words_of(text, SYNONYMS) - STOP_WORDS


def best_tags(words: set[str], candidates: Iterable[str]) -> list[str]:
    """The candidates whose variable names share most words with ``words`` (ties: those
    with the fewest words the text does not say)."""
    scored = []
    for tag in candidates:
        mine = tag_words(tag)
        overlap = len(mine & words)
        if overlap:
            scored.append((overlap, -len(mine - words), tag))
    if not scored:
        return []
    top = max((o, e) for o, e, _ in scored)
    return [t for o, e, t in scored if (o, e) == top]
