"""The alarm performance report as records: printed as JSON, rendered as Markdown."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from tools.opcua.alarm_metrics import ServerAlarmMetrics

EvidenceSource = Literal["journal", "server_history", "refresh", "alarm_metrics", "requests"]


class ReportEvidence(BaseModel):
    """One source a figure rests on (ids A1, A2, ...)."""

    id: str
    source: EvidenceSource
    text: str
    data: dict[str, object] = Field(default_factory=dict)


class Figure(BaseModel):
    """One figure of the report, with how it was found and what it rests on."""

    key: str
    label: str
    value: float | int | str | None
    unit: str | None = None
    assessment: str | None = Field(None, description="Against the ISA-18.2 marks.")
    evidence: list[str] = Field(default_factory=list, description="Evidence ids.")
    basis: str = Field("", description="How it was computed, in words.")


class PositionFigures(BaseModel):
    """The alarm load of one operator position."""

    position: str
    activations: int
    average_per_10min: float | None
    max_per_10min: int
    intervals: int = Field(description="10-minute intervals covered whole.")
    intervals_over_manageable: int
    flood_intervals: int
    flood_percent: float | None
    assessment: str | None


class RankedAlarm(BaseModel):
    """A bad actor: an alarm and its share of all activations."""

    condition: str
    priority: str
    activations: int
    share: float


class ChatterRow(BaseModel):
    """A chattering alarm."""

    condition: str
    activations: int
    bursts: int
    most_in_window: int


class StaleRow(BaseModel):
    """An alarm active for longer than the stale mark."""

    condition: str
    active_since: datetime
    hours: float


class HiddenRow(BaseModel):
    """A shelve (or suppression) of one alarm in the window."""

    condition: str
    kind: str
    start: datetime
    end: datetime | None
    minutes: float
    ongoing: bool
    start_at_least: bool = Field(False, description="Seen first already shelved: it may "
                                 "have begun earlier.")
    reason: str | None = None
    requested_by: str | None = None
    approved_by: str | None = None


class GapRow(BaseModel):
    """A span of the window no history covers."""

    start: datetime
    end: datetime
    hours: float


class AlarmReport(BaseModel):
    """The alarm system's performance over a window."""

    since: datetime
    until: datetime
    generated: datetime
    window_hours: float
    covered_hours: float
    gaps: list[GapRow] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)
    positions: list[PositionFigures] = Field(default_factory=list)
    activations: int = 0
    bad_actors: list[RankedAlarm] = Field(default_factory=list)
    top_share: float | None = None
    chattering: list[ChatterRow] = Field(default_factory=list)
    fleeting: dict[str, int] = Field(default_factory=dict)
    stale: list[StaleRow] = Field(default_factory=list)
    priority_split: dict[str, int] = Field(default_factory=dict)
    shelved: list[HiddenRow] = Field(default_factory=list)
    suppressed: list[HiddenRow] = Field(default_factory=list)
    server_metrics: list[ServerAlarmMetrics] = Field(default_factory=list)
    evidence: list[ReportEvidence] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def figure(self, key: str) -> Figure:
        """The figure with this key (KeyError when absent)."""
        for f in self.figures:
            if f.key == key:
                return f
        raise KeyError(key)
