"""Triage records: alarms as the watcher sees them, incidents, causes and reports.

Pydantic, because reports are stored and printed as JSON; everything else in the package
passes these around as they are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

IncidentKind = Literal["alarm", "flood", "trend", "deviation", "frozen"]
Direction = Literal["up", "down", "flat", "frozen"]


class AlarmEvent(BaseModel):
    """One alarm transition or active condition, reduced to what triage needs."""

    condition: str = Field(description="Stable condition name, e.g. '<tag>.High'.")
    tag: str
    equipment: str | None = Field(description="None when the catalog does not know the tag.")
    time: datetime
    active: bool
    severity: int = 0
    message: str = ""


class Incident(BaseModel):
    """Alarms and rule hits grouped into one thing to triage."""

    key: str = Field(description="Stable key: the same incident seen again has the same key.")
    kind: IncidentKind
    equipment: list[str] = Field(description="Equipment involved, first-out's first.")
    tags: list[str]
    onset: datetime
    alarms: list[AlarmEvent] = Field(default_factory=list)
    first_out: AlarmEvent | None = None
    flapping: list[str] = Field(default_factory=list, description="Conditions that flap.")
    unknown_sources: list[str] = Field(
        default_factory=list, description="Alarm sources the twin/catalog does not know."
    )
    summary: str = ""


class Evidence(BaseModel):
    """One fact a claim in the report rests on."""

    id: str
    kind: Literal["alarm", "snapshot", "history", "order", "rule", "incident", "runbook", "gap"]
    text: str
    data: dict[str, object] = Field(default_factory=dict)


class Candidate(BaseModel):
    """A possible cause, with the evidence for and against it."""

    cause: str = Field(description="Fault mode or generic rule name, e.g. 'bearing_wear'.")
    equipment: str
    tag: str | None = None
    process_fault: bool = Field(True, description="False for instrument faults.")
    confidence: float = Field(ge=0.0, le=1.0)
    evidence_for: list[str] = Field(default_factory=list, description="Evidence ids.")
    evidence_against: list[str] = Field(default_factory=list, description="Evidence ids.")
    explanation: str = ""


class SuggestedFix(BaseModel):
    """A propose_fix-style suggestion: nothing is changed, a person reviews it."""

    equipment: str
    action: str
    why: str
    evidence_ids: list[str]
    risk: Literal["low", "medium", "high"]
    source: str | None = None


class SuggestedShelve(BaseModel):
    """A timed shelve triage suggests for a chattering alarm with a known cause. Triage
    never shelves: a person asks for it (a request, checked against the policy)."""

    condition: str
    minutes: float
    reason: str
    evidence_ids: list[str]
    command: str = Field(description="The command a person would run to ask for it.")


class TriageReport(BaseModel):
    """What a triage found: stored as JSON, shown as Markdown."""

    id: str
    incident: Incident
    created: datetime
    status: Literal["diagnosed", "insufficient_evidence"]
    candidates: list[Candidate]
    evidence: list[Evidence]
    causal_order: list[str] = Field(default_factory=list, description="Tags, earliest first.")
    not_checked: list[str] = Field(default_factory=list)
    next_checks: list[str] = Field(default_factory=list)
    fixes: list[SuggestedFix] = Field(default_factory=list)
    shelves: list[SuggestedShelve] = Field(default_factory=list)
    text: str = ""
    writer: str = "template"
    grounded: bool = True
    unverified: list[str] = Field(default_factory=list)
