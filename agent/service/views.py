"""What the agent service hands to a user interface: plain records of the plant, of the
service's state and of an answer's evidence.

They are pydantic models because they cross a boundary (service to UI) and are recorded
as JSON fixtures for the UI's snapshot tests; nothing in them is an asyncua, apsw or
llama_cpp type.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ConnectionState = Literal["connected", "reconnecting", "down"]
LimitState = Literal["ok", "high", "low"]
TagQuality = Literal["good", "uncertain", "stale", "bad"]
#: NAMUR NE 107 status of a value (tools/opcua/statuses.py says how it is found).
NE107 = Literal["failure", "function_check", "out_of_specification", "maintenance_required",
                "ok"]
EvidenceKind = Literal["reading", "history", "document", "other"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class TagView(_Frozen):
    """One tag as the plant screen shows it."""

    name: str = Field(description="Tag name, e.g. 'P-101.FlowRate'.")
    variable: str = Field(description="The variable part of the name, e.g. 'FlowRate'.")
    value: float | int | bool | str | None = Field(description="Last value; None when bad.")
    unit: str | None = None
    low: float | None = Field(None, description="Low end of the normal range (EURange).")
    high: float | None = Field(None, description="High end of the normal range (EURange).")
    limit: LimitState = "ok"
    quality: TagQuality = "good"
    status: str = Field("Good", description="OPC UA status code name.")
    ne107: NE107 = Field("ok", description="NE 107 status (status code, age, flat line).")
    timestamp: datetime | None = Field(None, description="Source timestamp of the value.")
    history: tuple[float, ...] = Field(
        (), description="Recent values, oldest first, for a sparkline."
    )


class EquipmentView(_Frozen):
    """One equipment and its tags."""

    name: str
    path: tuple[str, ...] = Field((), description="Browse names above the equipment.")
    description: str | None = None
    tags: tuple[TagView, ...] = ()

    def alerts(self) -> int:
        """How many of its tags are outside their limits or have no usable value (a
        stale value, like a setpoint nobody changed, is marked on the tag only)."""
        return sum(1 for t in self.tags if t.limit != "ok" or t.quality == "bad")


class PlantSnapshot(_Frozen):
    """The whole plant at one moment (or as last seen, when the server is away)."""

    equipment: tuple[EquipmentView, ...] = ()
    taken_at: datetime
    connection: ConnectionState = "connected"
    error: str | None = Field(None, description="Why the last refresh failed, if it did.")


class ServiceStatus(_Frozen):
    """What the status bar shows."""

    model: str
    tokens_per_s: float | None = Field(None, description="Speed of the last answer's model steps.")
    connection: ConnectionState
    endpoint: str
    egress: str = Field(description="The egress guard, e.g. 'on-site only'.")
    user: str
    role: str
    triage: str | None = Field(None, description="Last word of the triage watcher, if running.")


AlarmStatus = Literal["unacknowledged", "acknowledged", "shelved", "cleared"]


class AlarmView(_Frozen):
    """One alarm condition as the alarms screen shows it (read back from the server)."""

    condition_id: str = Field(description="Expanded node id of the condition.")
    name: str = Field(description="e.g. 'P-101.Vibration.High'.")
    source: str
    priority: str = Field(description="The site's priority name (policy alarms.priorities).")
    rank: int = Field(description="0 = the lowest priority, rising.")
    severity: int
    status: AlarmStatus
    active: bool | None = None
    acked: bool | None = None
    shelving: str | None = Field(None, description="Unshelved / TimedShelved / OneShotShelved.")
    unshelve_in_s: float | None = Field(None, description="Seconds until a shelve ends.")
    left: str = Field("", description="A shelve's time left as people read it ('12m05s').")
    since: datetime | None = Field(None, description="When it was raised (or cleared).")
    message: str = ""
    comment: str | None = None
    event_id: str | None = Field(None, description="EventId of the state shown (hex).")


class CitationView(_Frozen):
    """One piece of evidence an answer cites, ready to show."""

    id: str = Field(description="Evidence id, e.g. 'E1'.")
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    kind: EvidenceKind
    title: str = Field(description="One line: what the evidence is.")
    lines: tuple[str, ...] = Field((), description="The readings or summary, one per line.")
    series_tag: str | None = Field(None, description="The tag the series below belongs to.")
    series: tuple[float, ...] = Field((), description="Values over time for a small plot.")
    passage: str | None = Field(None, description="Quoted document text, if any.")


class TrendView(_Frozen):
    """One tag's history over a window, for the trend screen."""

    tag: str
    unit: str | None = None
    low: float | None = Field(None, description="Low end of the normal range (EURange).")
    high: float | None = Field(None, description="High end of the normal range (EURange).")
    start: datetime
    end: datetime
    times: tuple[datetime, ...] = Field((), description="Sample times, oldest first.")
    values: tuple[float, ...] = Field((), description="Good numeric samples, with ``times``.")
    truncated: bool = Field(False, description="The server's point cap cut the window.")
