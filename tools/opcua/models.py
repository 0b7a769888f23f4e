"""Our own records of plant data. Nothing above tools/opcua ever sees an asyncua type.

These are the results the model reads, so they stay small: short field names, no raw
binary, timestamps as UTC datetimes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Quality = Literal["good", "uncertain", "bad"]
LimitSide = Literal["low", "high"]
ShelvingName = Literal["Unshelved", "TimedShelved", "OneShotShelved"]
#: NAMUR NE 107 status of a reading: what a device diagnosis would say about the value.
NE107 = Literal["failure", "function_check", "out_of_specification", "maintenance_required",
                "ok"]


class TagInfo(BaseModel):
    """One process variable as the catalog knows it."""

    name: str = Field(description="Tag name '<equipment>.<variable>', e.g. 'P-101.FlowRate'.")
    equipment: str = Field(description="Name of the equipment the tag belongs to.")
    browse_path: list[str] = Field(description="Browse names from Objects down to the tag.")
    node_id: str = Field(description="Expanded node id with namespace URI (nsu=...;s=...).")
    namespace_uri: str = Field(description="Namespace URI of the node.")
    unit: str | None = Field(None, description="Engineering unit, e.g. 'm³/h'.")
    eu_low: float | None = Field(None, description="Low end of the normal operating range.")
    eu_high: float | None = Field(None, description="High end of the normal operating range.")
    description: str | None = Field(None, description="What the tag measures.")
    data_type: str | None = Field(None, description="OPC UA data type name, e.g. 'Double'.")


class EquipmentInfo(BaseModel):
    """An object with process variables: a pump, a tank, a valve."""

    name: str = Field(description="Equipment name (its browse name), e.g. 'P-101'.")
    browse_path: list[str] = Field(description="Browse names from Objects down to it.")
    node_id: str = Field(description="Expanded node id with namespace URI.")
    description: str | None = Field(None, description="What the equipment is.")
    tags: list[str] = Field(default_factory=list, description="Names of its tags.")


class Reading(BaseModel):
    """The current value of one tag. A bad status never carries a value."""

    tag: str
    value: float | int | bool | str | None = Field(
        description="The value; None when the quality is bad."
    )
    unit: str | None = None
    low: float | None = Field(None, description="Low end of the normal range (EURange).")
    high: float | None = Field(None, description="High end of the normal range (EURange).")
    source_timestamp: datetime | None = None
    server_timestamp: datetime | None = None
    quality: Quality
    status: str = Field(description="OPC UA status code name, e.g. 'Good', 'BadSensorFailure'.")
    stale: bool = Field(description="True when the source timestamp is older than allowed.")
    out_of_limits: LimitSide | None = Field(
        None, description="'low' or 'high' when the value is outside the normal range."
    )
    ne107: NE107 = Field(
        "ok", description="NE 107 status: failure or function_check values are not to be "
        "used as evidence; out_of_specification or maintenance_required ones with care.")


class HistoryPoint(BaseModel):
    """One stored sample of a tag."""

    time: datetime | None
    value: float | int | bool | str | None
    quality: Quality
    status: str


class HistorySummary(BaseModel):
    """Aggregates of one tag over a window, computed from the raw samples with good quality."""

    tag: str
    unit: str | None = None
    start: datetime
    end: datetime
    count: int = Field(description="Good numeric samples in the window.")
    min: float | None = None
    max: float | None = None
    mean: float | None = Field(None, description="Arithmetic mean of the samples.")
    last: float | None = None
    first_time: datetime | None = None
    last_time: datetime | None = None
    bad_count: int = Field(0, description="Samples skipped for bad or uncertain quality.")
    truncated: bool = Field(False, description="True when the point cap cut the window short.")


class HistoryResult(BaseModel):
    """Raw samples of one tag (possibly thinned to fit) plus their summary."""

    summary: HistorySummary
    points: list[HistoryPoint] = Field(default_factory=list)


class AlarmInfo(BaseModel):
    """One alarm or event from the server."""

    source: str = Field(description="Tag or object that raised it (SourceName).")
    severity: int = Field(description="1 (least) to 1000 (most severe).")
    message: str
    active: bool | None = Field(None, description="ActiveState; None for plain events.")
    retain: bool | None = Field(None, description="True while the server keeps the condition.")
    time: datetime | None = None
    condition_id: str | None = Field(None, description="Expanded node id of the condition.")
    event_type: str | None = Field(None, description="Browse name of the event type.")
    transition_time: datetime | None = Field(
        None, description="When ActiveState last changed (raised or cleared).")
    acked: bool | None = Field(None, description="AckedState; None when not acknowledgeable.")
    shelved: bool | None = Field(None, description="True while an operator shelved it.")


class ConditionState(BaseModel):
    """One alarm condition's OPC UA Part 9 state as the server reports it (the alarm
    actions read it before and after every call)."""

    condition_id: str = Field(description="Expanded node id of the condition (ConditionId).")
    name: str = Field(description="Readable name, e.g. 'P-101.Vibration.High'.")
    source: str = Field(description="Tag or object the condition watches (SourceName).")
    condition_name: str | None = Field(None, description="ConditionName, e.g. 'HighLimit'.")
    severity: int = 0
    message: str = ""
    time: datetime | None = Field(None, description="Time of the newest event.")
    event_id: str | None = Field(None, description="EventId of the newest event, hex.")
    retain: bool | None = None
    enabled: bool | None = None
    active: bool | None = None
    active_since: datetime | None = Field(None, description="ActiveState/TransitionTime.")
    acked: bool | None = Field(None, description="AckedState; None: not acknowledgeable.")
    confirmed: bool | None = Field(None, description="ConfirmedState; None: no confirm.")
    shelving: ShelvingName | None = Field(None, description="None: the server has no shelving.")
    unshelve_in_s: float | None = Field(None, description="Seconds until a shelve ends.")
    suppressed_or_shelved: bool | None = None
    suppressed: bool | None = Field(None, description="SuppressedState (by the server).")
    max_time_shelved_s: float | None = Field(
        None, description="The server's MaxTimeShelved in seconds; None when it sets none.")
    comment: str | None = None

    @property
    def shelved(self) -> bool:
        """True in either shelved state."""
        return self.shelving in ("TimedShelved", "OneShotShelved")
