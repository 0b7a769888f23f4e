"""Incident records: past incidents and work orders as stored and exchanged.

A record holds what people wrote (symptoms, cause, fix) and a snapshot of key tag values
at the time, each with its normal range, so the record stays meaningful on its own. From
the snapshot come the numeric features used for similarity: how far, and which way, each
tag was outside its normal range.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agent.errors import UsageError

#: A value inside its range but within this share of half the span from the middle
#: counts as normal (feature 0); beyond, the excess is the feature.
_NORMAL_BAND = 0.8


class SnapshotValue(BaseModel):
    """A tag's value at the time of the incident, with its normal range."""

    model_config = ConfigDict(extra="forbid")

    value: float
    unit: str = ""
    low: float
    high: float

    @model_validator(mode="after")
    def _range(self) -> SnapshotValue:
        if not self.high > self.low:
            raise ValueError(f"high ({self.high}) must be above low ({self.low})")
        return self


class IncidentRecord(BaseModel):
    """One past incident or work order."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    title: str = Field(min_length=1, max_length=200)
    equipment: list[str] = Field(min_length=1)
    fault_mode: str = Field(min_length=1, max_length=64)
    opened_at: datetime
    closed_at: datetime | None = None
    downtime_h: float = Field(ge=0)
    symptoms: str = Field(min_length=1)
    cause: str = ""
    fix: str = ""
    snapshot: dict[str, SnapshotValue] = Field(default_factory=dict)

    def snapshot_text(self) -> str:
        """The abnormal part of the snapshot in words, e.g. 'P-101.Vibration high (9.8 mm/s,
        normal 0.5-4.5)'."""
        return describe_snapshot(
            {tag: (v.value, v.low, v.high, v.unit) for tag, v in self.snapshot.items()}
        )

    def similarity_text(self) -> str:
        """What is embedded for similarity: equipment, symptoms and the snapshot's story."""
        parts = [f"Equipment {', '.join(self.equipment)}.", self.title + ".", self.symptoms]
        snapshot = self.snapshot_text()
        if snapshot:
            parts.append(f"Readings: {snapshot}.")
        return " ".join(parts)


def deviation(value: float, low: float, high: float) -> float:
    """Signed distance outside the normal band, in half-spans (0 when normal)."""
    half = (high - low) / 2.0
    d = (value - (low + high) / 2.0) / half
    excess = max(abs(d) - _NORMAL_BAND, 0.0)
    return math.copysign(min(excess, 5.0), d)


def describe_snapshot(values: dict[str, tuple[float, float, float, str]]) -> str:
    """Words for the values outside (or at the edge of) their normal range."""
    words = []
    for tag, (value, low, high, unit) in values.items():
        d = deviation(value, low, high)
        if d == 0.0:
            continue
        side = "high" if d > 0 else "low"
        words.append(f"{tag} {side} ({value:g} {unit}, normal {low:g}-{high:g})".replace(" ,", ","))
    return "; ".join(words)


def load_incident_files(paths: list[Path]) -> list[IncidentRecord]:
    """Read incident JSON files (one record, or a list of records, per file)."""
    records: list[IncidentRecord] = []
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            items = data if isinstance(data, list) else [data]
            records.extend(IncidentRecord.model_validate(item) for item in items)
        except (OSError, json.JSONDecodeError, ValidationError) as exc:
            raise UsageError(
                f"{path} is not a valid incident file ({exc})",
                fix="see plant/incidents/*.json for the format of an incident record",
            ) from None
    return records
