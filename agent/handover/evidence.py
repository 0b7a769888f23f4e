"""Facts of a shift before they are numbered, and the book that numbers them (H1, H2, ...)."""

from __future__ import annotations

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
