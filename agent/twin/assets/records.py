"""Records of the asset model: stored equipment and tags, and what a sync changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal["active", "retired"]


class TagAsset(BaseModel):
    """A tag as the asset model keeps it (None where the server gives no unit/limits)."""

    name: str
    unit: str | None = None
    low: float | None = None
    high: float | None = None
    description: str | None = None
    data_type: str | None = None
    status: Status = "active"
    retired_at: str | None = None


class EquipmentAsset(BaseModel):
    """An equipment with its tags and the site's enrichment."""

    name: str
    path: str
    node_id: str
    description: str | None = None
    status: Status = "active"
    retired_at: str | None = None
    eq_class: str | None = Field(None, description="Equipment class from the asset file.")
    criticality: str | None = None
    maintenance_interval_days: float | None = None
    feeds: list[str] = Field(default_factory=list)
    drives: list[str] = Field(default_factory=list)
    parameters: dict[str, float] = Field(default_factory=dict)
    tags: list[TagAsset] = Field(default_factory=list)

    def tag(self, variable: str) -> TagAsset | None:
        """The tag '<name>.<variable>', if the equipment has it."""
        full = f"{self.name}.{variable}"
        return next((t for t in self.tags if t.name == full), None)

    def variables(self) -> set[str]:
        """Variable names of its tags (the part after '<equipment>.')."""
        return {t.name[len(self.name) + 1 :] for t in self.tags}


class FieldChange(BaseModel):
    """One field that differs from the last sync."""

    field: str
    old: Any = None
    new: Any = None


class ItemChange(BaseModel):
    """A tag or equipment whose metadata changed."""

    name: str
    changes: list[FieldChange]


class SyncReport(BaseModel):
    """What a sync found compared with the stored model."""

    endpoint: str
    at: datetime
    added_equipment: list[str] = Field(default_factory=list)
    removed_equipment: list[str] = Field(default_factory=list)
    changed_equipment: list[ItemChange] = Field(default_factory=list)
    added_tags: list[str] = Field(default_factory=list)
    removed_tags: list[str] = Field(default_factory=list, description="Now marked retired.")
    changed_tags: list[ItemChange] = Field(default_factory=list)
    unmatched_site_entries: list[str] = Field(
        default_factory=list, description="Asset-file equipment the server does not have."
    )
    unresolved_tags: list[str] = Field(
        default_factory=list, description="Tags whose quantity or equipment is not known: "
        "name them in the site file.")
    active_equipment: int = 0
    active_tags: int = 0
    retired_tags: int = 0

    @property
    def unchanged(self) -> bool:
        """True when nothing was added, removed or changed."""
        return not (
            self.added_equipment
            or self.removed_equipment
            or self.changed_equipment
            or self.added_tags
            or self.removed_tags
            or self.changed_tags
        )
