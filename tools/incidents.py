"""The agent's tool over past incidents: find_similar_incidents."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, Field, model_validator

from agent.errors import ToolError
from tools.context import ToolContext
from tools.registry import ToolRegistry, tool
from tools.types import EquipmentName, TagName


class TagReading(BaseModel):
    """A current value of one tag."""

    tag: TagName
    value: float


class FindSimilarIncidentsArgs(BaseModel):
    """Arguments of find_similar_incidents: symptoms, equipment, readings, or a mix."""

    symptoms: str | None = Field(
        None,
        max_length=600,
        description="What is observed, in words, e.g. 'vibration and bearing temperature "
        "rising on the pump'.",
    )
    equipment: EquipmentName | None = Field(
        None, description="Only incidents that involved this equipment."
    )
    readings: list[TagReading] = Field(
        default_factory=list,
        max_length=40,
        description="Current values of the tags that look abnormal (from read tools).",
    )
    k: int = Field(3, ge=1, le=10, description="How many incidents to return.")

    @model_validator(mode="after")
    def _something(self) -> FindSimilarIncidentsArgs:
        if (
            not (self.symptoms and self.symptoms.strip())
            and not self.equipment
            and not (self.readings)
        ):
            raise ValueError("give symptoms, equipment or readings")
        return self


class SimilarIncident(BaseModel):
    """A past incident close to the current situation."""

    citation: str = Field(description="Cite as this, e.g. 'incident WO-2024-0877'.")
    id: str
    title: str
    equipment: list[str]
    fault_mode: str
    opened_at: str
    downtime_h: float
    score: float = Field(description="Overall similarity, 1 = identical.")
    text_similarity: float | None
    snapshot_similarity: float | None
    symptoms: str
    cause: str
    fix: str


class FindSimilarIncidentsResult(BaseModel):
    """The closest past incidents, best first."""

    incidents: list[SimilarIncident]


@tool()
async def find_similar_incidents(
    ctx: ToolContext, args: FindSimilarIncidentsArgs
) -> FindSimilarIncidentsResult:
    """Find past incidents and work orders that resemble the current situation.

    Give the symptoms in words, the equipment, the abnormal readings, or a mix. Returns
    the closest past incidents with a similarity score, their cause, fix and downtime.
    A past cause is a hypothesis to check against current data, not a diagnosis.
    """
    memory = ctx.incidents
    if memory is None:
        raise ToolError(
            "the incident memory is not available in this session",
            fix="answer without past incidents; a person can run "
            "`plantagent incidents load --demo`",
        )
    snapshot = {r.tag: r.value for r in args.readings} or None
    matches = await asyncio.to_thread(
        memory.similar,
        symptoms=args.symptoms,
        equipment=args.equipment,
        snapshot=snapshot,
        k=args.k,
    )
    return FindSimilarIncidentsResult(
        incidents=[
            SimilarIncident(
                citation=f"incident {m.record.id}",
                id=m.record.id,
                title=m.record.title,
                equipment=m.record.equipment,
                fault_mode=m.record.fault_mode,
                opened_at=m.record.opened_at.date().isoformat(),
                downtime_h=m.record.downtime_h,
                score=round(m.score, 4),
                text_similarity=_round(m.text_similarity),
                snapshot_similarity=_round(m.snapshot_similarity),
                symptoms=m.record.symptoms,
                cause=m.record.cause,
                fix=m.record.fix,
            )
            for m in matches
        ]
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def register(registry: ToolRegistry) -> None:
    """Add the incident tools to ``registry``."""
    registry.register(find_similar_incidents)
