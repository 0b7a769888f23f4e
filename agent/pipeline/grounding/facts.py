"""Facts: what the evidence states, by what it is (a reading of a tag, a limit, a
statistic, a trend, a time, a requested value, a number in a text).

The grounding check matches each claim of an answer against facts of the kind the claim
needs: a value stated as a tag's current reading against the readings of that tag, a
range against limits, a time against timestamps. Facts come from the typed results
(pydantic models of the tools); a result of a kind this module does not know still
gives its numbers, times and list lengths, as plain numbers that support no reading.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel

from agent.approvals.models import ApprovalRequest
from agent.twin.historian.analysis import TrendSummary
from tools.limits import CheckLimitsArgs, LimitCheck, OutOfRange
from tools.opcua.models import AlarmInfo, HistoryResult, HistorySummary, Reading, TagInfo
from tools.opcua.toolset import TagBrief

FactKind = Literal["reading", "limit", "stat", "trend", "time", "request", "number", "text"]
Direction = Literal["up", "down", "flat"]

_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:[.,]\d+)?(?![\w])")
_ISO = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?$")
_CLOCK = re.compile(r"^\d\d:\d\d(?::\d\d)?$")


@dataclass(frozen=True)
class Fact:
    """One thing a piece of evidence states. ``source`` is the evidence id."""

    kind: FactKind
    source: str
    tag: str | None = None
    value: float | None = None
    unit: str | None = None
    side: Literal["low", "high"] | None = None  # a limit's side; a reading outside it
    name: str = ""  # a statistic (min, max, mean, last), or what a number is in a text
    when: datetime | None = None
    clock: str | None = None  # a time written as 'HH:MM' (handover facts)
    low: float | None = None  # a reading's normal range
    high: float | None = None
    quality: str | None = None
    stale: bool = False
    direction: Direction | None = None


@dataclass
class LimitScope:
    """A limit check: which tags it looked at (None = every tag), which were outside
    (tag -> side) and which could not be judged."""

    source: str
    equipment: tuple[str, ...] | None
    outside: dict[str, str]
    untrusted: set[str]
    checked: int


@dataclass
class FactBook:
    """The facts of the evidence an answer may rest on."""

    facts: list[Fact] = field(default_factory=list)
    scopes: list[LimitScope] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # lower-case names the evidence mentions
    texts: list[str] = field(default_factory=list)  # the evidence as text, lower case

    # -- building ---------------------------------------------------------------------

    def add(self, fact: Fact) -> None:
        """Add one fact (values that are not finite are not facts)."""
        if fact.value is not None and not math.isfinite(fact.value):
            return
        self.facts.append(fact)
        if fact.tag:
            self.names.add(fact.tag.lower())
            self.names.add(fact.tag.split(".", 1)[0].lower())

    def add_text(self, text: str) -> None:
        """Text of the evidence: names and units are looked up in it."""
        self.texts.append(text.lower())

    def add_model(self, source: str, result: BaseModel, args: BaseModel | None = None) -> None:
        """The facts of one typed result (and the limit scope of a limit check)."""
        if isinstance(result, LimitCheck):
            scope = args.equipment if isinstance(args, CheckLimitsArgs) and args.equipment \
                else None
            self.scopes.append(LimitScope(
                source, tuple(scope) if scope else None,
                {o.tag: o.side for o in result.outside},
                {u.tag for u in result.untrusted}, result.checked))
        self._walk(source, result)
        if args is not None:
            # What was asked for (a window of 60 minutes) supports a duration, nothing else.
            for value in _numbers(args.model_dump(mode="json")):
                self.add(Fact("number", source, value=value, name="argument"))

    def add_payload(self, source: str, payload: Any) -> None:
        """Facts of JSON-like data whose meaning this module does not know: its numbers,
        times and list lengths, supporting no reading."""
        self._walk(source, payload)

    def _walk(self, source: str, node: Any) -> None:
        if isinstance(node, HistoryResult):
            self._summary(source, node.summary, node)
            return
        typed = True
        if isinstance(node, Reading):
            self._reading(source, node)
        elif isinstance(node, OutOfRange):
            self._out_of_range(source, node)
        elif isinstance(node, HistorySummary | TrendSummary):
            self._summary(source, node)
        elif isinstance(node, TagBrief | TagInfo):
            self._limits(source, node.name, node.unit,
                         node.low if isinstance(node, TagBrief) else node.eu_low,
                         node.high if isinstance(node, TagBrief) else node.eu_high)
        elif isinstance(node, ApprovalRequest):
            self._request(source, node)
        elif isinstance(node, AlarmInfo):
            self.names.add(node.source.lower())
            if node.time is not None:
                self.add(Fact("time", source, tag=node.source, when=node.time))
            self.add(Fact("number", source, value=float(node.severity), name="severity"))
            self._text(source, node.message)
        else:
            typed = False
        items: Any = node
        if isinstance(node, BaseModel):
            items = {k: getattr(node, k) for k in type(node).model_fields}
        if isinstance(items, Mapping):
            for key, value in items.items():
                if isinstance(value, BaseModel | Mapping | list | tuple):
                    self._walk(source, value)
                elif typed and key in _TYPED_FIELDS:
                    continue
                elif key in _NAME_FIELDS and isinstance(value, str):
                    self.names.add(value.lower())
                else:
                    self._leaf(source, value)
        elif isinstance(items, list | tuple):
            self.add(Fact("number", source, value=float(len(items)), name="count"))
            for item in items:
                self._walk(source, item)
        else:
            self._leaf(source, items)

    def _leaf(self, source: str, value: Any) -> None:
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, int | float):
            self.add(Fact("number", source, value=float(value)))
        elif isinstance(value, datetime):
            self.add(Fact("time", source, when=value))
        elif isinstance(value, str):
            moment = parse_time(value)
            if moment is not None:
                self.add(Fact("time", source, when=moment))
            elif _CLOCK.match(value):
                self.add(Fact("time", source, clock=value[:5]))
            else:
                self._text(source, value)

    def _text(self, source: str, text: str) -> None:
        for match in _NUMBER.finditer(text):
            self.add(Fact("text", source, value=float(match.group().replace(",", "."))))

    def _reading(self, source: str, r: Reading) -> None:
        self.names.add(r.tag.lower())
        value = r.value if isinstance(r.value, int | float) and not isinstance(r.value, bool) \
            else None
        self.add(Fact("reading", source, tag=r.tag, value=None if value is None
                      else float(value), unit=r.unit, when=r.source_timestamp,
                      side=r.out_of_limits, low=r.low, high=r.high, quality=r.quality,
                      stale=r.stale))
        self._limits(source, r.tag, r.unit, r.low, r.high)
        for moment in (r.source_timestamp, r.server_timestamp):
            if moment is not None:
                self.add(Fact("time", source, tag=r.tag, when=moment))

    def _out_of_range(self, source: str, o: OutOfRange) -> None:
        value = o.value if isinstance(o.value, int | float) and not isinstance(o.value, bool) \
            else None
        side = o.side if o.side in ("low", "high") else None
        self.add(Fact("reading", source, tag=o.tag, value=None if value is None
                      else float(value), unit=o.unit, side=side,  # type: ignore[arg-type]
                      low=o.low, high=o.high, quality="good"))
        self._limits(source, o.tag, o.unit, o.low, o.high)

    def _limits(self, source: str, tag: str, unit: str | None, low: float | None,
                high: float | None) -> None:
        self.names.add(tag.lower())
        if low is not None:
            self.add(Fact("limit", source, tag=tag, value=float(low), unit=unit, side="low"))
        if high is not None:
            self.add(Fact("limit", source, tag=tag, value=float(high), unit=unit, side="high"))

    def _summary(self, source: str, s: HistorySummary | TrendSummary,
                 result: HistoryResult | None = None) -> None:
        self.names.add(s.tag.lower())
        for name in ("min", "max", "mean", "last"):
            value = getattr(s, name)
            if value is not None:
                self.add(Fact("stat", source, tag=s.tag, value=float(value), unit=s.unit,
                              name=name, when=s.last_time if name == "last" else None))
        if s.last is not None:
            # The last sample is a reading of the tag, at its time.
            self.add(Fact("reading", source, tag=s.tag, value=float(s.last), unit=s.unit,
                          when=s.last_time, name="last"))
        slope = s.slope_per_hour if isinstance(s, TrendSummary) else (
            _slope_per_hour(result) if result is not None else None)
        hours = max((s.end - s.start).total_seconds() / 3600, 1e-9)
        if slope is not None and s.min is not None and s.max is not None:
            direction = direction_of(slope * hours, s.max - s.min)
            if direction == "flat" and s.last is not None and s.mean is not None:
                # A value that has left its window's mean by more than half the spread
                # is moving that way now, however flat the window was before.
                direction = direction_of(s.last - s.mean, s.max - s.min)
            self.add(Fact("trend", source, tag=s.tag, value=slope, unit=s.unit, name="slope",
                          direction=direction))
        if isinstance(s, TrendSummary):
            self._limits(source, s.tag, s.unit, s.low, s.high)
        if result is not None:
            samples = [(float(p.value), p.time) for p in result.points
                       if isinstance(p.value, int | float) and not isinstance(p.value, bool)]
            for value, when in samples:
                self.add(Fact("stat", source, tag=s.tag, value=value, unit=s.unit,
                              name="sample", when=when))
            if samples and s.last is not None:
                # "rose by 6 °C over the hour": the last sample less the first.
                self.add(Fact("stat", source, tag=s.tag, unit=s.unit, name="change",
                              value=float(s.last) - samples[0][0]))

    def _request(self, source: str, r: ApprovalRequest) -> None:
        self.names.add(r.target.tag.lower())
        self.add(Fact("request", source, tag=r.target.tag, value=r.value, unit=r.target.unit))
        for moment in (r.created_at, r.expires_at):
            self.add(Fact("time", source, when=moment))

    # -- reading ----------------------------------------------------------------------

    def of_kind(self, *kinds: FactKind, tags: Iterable[str] | None = None) -> list[Fact]:
        """Facts of ``kinds`` (of ``tags`` when given)."""
        wanted = None if tags is None else set(tags)
        return [f for f in self.facts if f.kind in kinds
                and (wanted is None or f.tag in wanted)]

    def tags(self) -> set[str]:
        """Tags some fact is about."""
        return {f.tag for f in self.facts if f.tag}

    def text(self) -> str:
        """All evidence text, lower case."""
        return "\n".join(self.texts)


#: Fields whose values a typed handler above has already turned into facts of their kind
#: (a reading's value is a reading, not a plain number).
_TYPED_FIELDS = frozenset({"value", "low", "high", "min", "max", "mean", "last", "side",
                           "slope_per_hour", "source_timestamp", "server_timestamp",
                           "last_time", "time", "severity", "message", "eu_low", "eu_high"})


#: Fields that hold a name, not text with numbers in it (the 101 of P-101 is no value).
_NAME_FIELDS = frozenset({"tag", "source", "name", "equipment", "node_id", "condition_id",
                          "id", "request", "report", "event_type", "namespace_uri",
                          "document", "citation", "on", "condition"})


def parse_time(text: str) -> datetime | None:
    """An ISO timestamp as a UTC datetime, or None."""
    if not _ISO.match(text.strip()):
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def direction_of(change: float, spread: float) -> Direction:
    """Up, down or flat: a change over the window of more than half the spread of the
    values is a trend; less is noise around a level."""
    if spread <= 0 or abs(change) <= 0.5 * spread:
        return "flat"
    return "up" if change > 0 else "down"


def _slope_per_hour(result: HistoryResult) -> float | None:
    points = [(p.time.timestamp(), float(p.value)) for p in result.points
              if p.time is not None and isinstance(p.value, int | float)
              and not isinstance(p.value, bool)]
    if len(points) < 3:
        return None
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    if var <= 0:
        return None
    return sum((t - mt) * (v - mv) for t, v in points) / var * 3600


def _numbers(value: Any) -> list[float]:
    out: list[float] = []
    if isinstance(value, bool):
        return out
    if isinstance(value, int | float):
        out.append(float(value))
    elif isinstance(value, Mapping):
        for item in value.values():
            out += _numbers(item)
    elif isinstance(value, list | tuple):
        for item in value:
            out += _numbers(item)
    return out
