"""Facts of a shift before they are numbered, and the book that numbers them (H1, H2, ...)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from agent.handover.models import EvidenceSource, HandoverEvidence

#: At most this many facts of one kind: a flood of incidents must not flood the handover.
MAX_PER_KIND = 8


#: The zone a handover names times in. A context variable, not a parameter: times are
#: formatted deep in many small fact builders, and one handover has one zone throughout.
_ZONE: ContextVar[tzinfo] = ContextVar("handover_zone", default=UTC)


@contextmanager
def times_in(zone: tzinfo) -> Iterator[None]:
    """Name every time of the facts built inside in ``zone`` (the site's)."""
    token = _ZONE.set(zone)
    try:
        yield
    finally:
        _ZONE.reset(token)


def clock_time(moment: datetime) -> str:
    """'HH:MM' in the site's zone: how a handover names a time (and what the grounding
    check finds again in the payload, as the numbers HH and MM)."""
    return moment.astimezone(_ZONE.get()).strftime("%H:%M")


def zone_name(moment: datetime) -> str:
    """The short name of the handover's zone at ``moment`` ('CET', 'UTC')."""
    return moment.astimezone(_ZONE.get()).strftime("%Z") or "local time"


@dataclass(frozen=True)
class Fact:
    """One thing that happened or holds now, from one source."""

    source: EvidenceSource
    summary: str
    payload: dict[str, Any]
    brief: str = ""  # the short form for the model's prompt; empty = the summary


def number(facts: list[Fact]) -> list[HandoverEvidence]:
    """The facts as evidence with ids H1, H2, ... in the given order."""
    return [
        HandoverEvidence(id=f"H{i}", source=f.source, summary=f.summary, payload=f.payload,
                         brief=f.brief)
        for i, f in enumerate(facts, 1)
    ]


def plain(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant digits, never in scientific notation: the
    grounding check would read "1.98e+03" as the two numbers 1.98 and 03."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}"
