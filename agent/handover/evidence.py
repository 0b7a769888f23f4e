"""Facts of a shift before they are numbered, and the book that numbers them (H1, H2, ...)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agent.handover.models import EvidenceSource, HandoverEvidence

#: At most this many facts of one kind: a flood of incidents must not flood the handover.
MAX_PER_KIND = 8


def clock_time(moment: datetime) -> str:
    """'HH:MM' in UTC: how a handover names a time (and what the grounding check finds
    again in the payload, as the numbers HH and MM)."""
    return moment.astimezone(UTC).strftime("%H:%M")


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
