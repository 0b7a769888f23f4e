"""The OPC UA tools the agent can call. The model reads each docstring and argument field.

Results are our pydantic models, kept small for a small model's context.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.errors import ToolError
from tools.context import ToolContext
from tools.opcua import alarms as _alarms
from tools.opcua import history as _history
from tools.opcua import read as _read
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.models import AlarmInfo, HistoryResult, Reading
from tools.registry import ToolRegistry, tool
from tools.types import EquipmentName, TagName


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoArgs(_Args):
    """No arguments."""


class ListEquipmentArgs(_Args):
    """Optional filter of the equipment list."""

    contains: str | None = Field(
        None, max_length=100, description="Only equipment whose name or path contains this."
    )
    eq_class: str | None = Field(
        None, max_length=40, description="Only equipment of this class: pump, fan, "
        "compressor, motor, filter, heat_exchanger, tank, conveyor, valve, cooling_tower, "
        "chiller, boiler, dosing_skid, air_handler.")


class EquipmentArgs(_Args):
    """One piece of equipment."""

    equipment: EquipmentName


class ReadTagsArgs(_Args):
    """Tags to read now."""

    tags: list[TagName] = Field(min_length=1, description="Tag names to read in one call.")


class TagHistoryArgs(_Args):
    """History of one tag over the last minutes."""

    tag: TagName
    window_minutes: float = Field(60.0, gt=0, description="How far back to look, in minutes.")
    aggregate: Literal["summary", "raw"] = Field(
        "summary", description="'summary': min/max/mean/last only; 'raw': also sample points."
    )
    max_points: int = Field(20, ge=1, le=200, description="Most sample points for 'raw'.")


class RecentEventsArgs(_Args):
    """Events of the last minutes."""

    window_minutes: float = Field(60.0, gt=0, le=24 * 60, description="How far back to look.")
    limit: int = Field(20, ge=1, le=100, description="Most events to return, newest first.")


class EquipmentBrief(BaseModel):
    """One equipment in a list."""

    name: str
    description: str | None = None
    path: str = Field(description="Where it is: browse names joined with '/'.")
    tag_count: int
    eq_class: str | None = Field(None, description="Equipment class, as inferred or set.")
    tags: list[str] = Field(default_factory=list, description="Its tags with what each "
                            "measures, when listed by class or name.")


class EquipmentList(BaseModel):
    """Equipment of the plant."""

    equipment: list[EquipmentBrief]


class TagBrief(BaseModel):
    """One tag of an equipment."""

    name: str
    unit: str | None = None
    low: float | None = Field(None, description="Low end of the normal range.")
    high: float | None = Field(None, description="High end of the normal range.")
    description: str | None = None


class EquipmentDescription(BaseModel):
    """An equipment and its tags."""

    name: str
    description: str | None = None
    path: str
    tags: list[TagBrief]


class Readings(BaseModel):
    """Current readings."""

    readings: list[Reading]


class Alarms(BaseModel):
    """Alarms or events, with a one-line summary stated outright for a small model."""

    summary: str = ""
    alarms: list[AlarmInfo]

    @classmethod
    def of(cls, alarms: list[AlarmInfo], what: str) -> Alarms:
        """The list with its summary line, e.g. '2 active alarms, on P-101: ...'."""
        if not alarms:
            return cls(summary=f"no {what}", alarms=[])
        equipment = sorted({a.source.split(".", 1)[0] for a in alarms})
        sources = ", ".join(dict.fromkeys(a.source for a in alarms))
        return cls(
            summary=f"{len(alarms)} {what}, on {', '.join(equipment)}: {sources}",
            alarms=alarms,
        )


def _deps(ctx: ToolContext) -> tuple[OpcUaConnection, Catalog]:
    if ctx.opcua is None or ctx.catalog is None:
        raise ToolError(
            "no plant connection is configured",
            fix="start the agent with an OPC UA endpoint (opcua.endpoint)",
        )
    return ctx.opcua, ctx.catalog


@tool()
async def list_equipment(ctx: ToolContext, args: ListEquipmentArgs) -> EquipmentList:
    """List the plant's equipment (pumps, tanks, valves...) with how many tags each has.

    Use it first to learn the equipment names; then describe_equipment for its tags.
    """
    # Imported here: the semantics read this package's models (a cycle at import time).
    from agent.twin.semantics.infer import cached

    _, catalog = _deps(ctx)
    needle = (args.contains or "").lower()
    semantics = cached(catalog)
    if args.eq_class or (needle and needle in {e.lower() for e in semantics.equipment}):
        # The equipment as the tag semantics group it (a flat gateway's pumps, a BMS
        # device above its point list), with what each tag measures.
        return EquipmentList(equipment=[
            EquipmentBrief(
                name=eq.name, description=None,
                path="/".join(catalog.equipment[eq.catalog_equipment[0]].browse_path)
                if eq.catalog_equipment and eq.catalog_equipment[0] in catalog.equipment
                else "", tag_count=len(eq.tags), eq_class=eq.eq_class,
                tags=[f"{t.tag}: {t.role}" for t in semantics.tags_of(eq.name)],
            )
            for eq in semantics.equipment.values()
            if (not args.eq_class or eq.eq_class == args.eq_class)
            and (not needle or needle == eq.name.lower())
        ])
    return EquipmentList(
        equipment=[
            EquipmentBrief(
                name=eq.name,
                description=eq.description,
                path="/".join(eq.browse_path),
                tag_count=len(eq.tags),
            )
            for eq in catalog.equipment.values()
            if needle in eq.name.lower() or needle in "/".join(eq.browse_path).lower()
        ]
    )


@tool()
async def describe_equipment(ctx: ToolContext, args: EquipmentArgs) -> EquipmentDescription:
    """Show one equipment's tags with their units and normal operating ranges (low..high)."""
    _, catalog = _deps(ctx)
    eq = catalog.get_equipment(args.equipment)
    return EquipmentDescription(
        name=eq.name,
        description=eq.description,
        path="/".join(eq.browse_path),
        tags=[
            TagBrief(
                name=t.name, unit=t.unit, low=t.eu_low, high=t.eu_high, description=t.description
            )
            for t in catalog.tags_of(eq.name)
        ],
    )


@tool()
async def read_tags(ctx: ToolContext, args: ReadTagsArgs) -> Readings:
    """Read the current value of one or more tags in one request.

    Each reading has value, unit, normal range (low/high), quality (good/uncertain/bad),
    stale (value too old to trust) and out_of_limits ('low'/'high' when outside the range).
    A bad reading has no value: do not guess one.
    """
    conn, catalog = _deps(ctx)
    s = ctx.settings.opcua
    readings = await _read.read_tags(
        conn,
        catalog,
        args.tags,
        clock=ctx.clock,
        stale_after_s=s.stale_after_s,
        max_tags=s.max_tags_per_read,
    )
    return Readings(readings=readings)


@tool()
async def read_equipment(ctx: ToolContext, args: EquipmentArgs) -> Readings:
    """Read the current value of every tag of one equipment (same fields as read_tags)."""
    conn, catalog = _deps(ctx)
    s = ctx.settings.opcua
    tags = catalog.tags_of(args.equipment)
    readings = await _read.read_tag_infos(
        conn, tags, clock=ctx.clock, stale_after_s=s.stale_after_s
    )
    return Readings(readings=readings)


@tool()
async def tag_history(ctx: ToolContext, args: TagHistoryArgs) -> HistoryResult:
    """History of one tag over the last window_minutes: min, max, mean and last value of
    the good samples, their count and time span; with aggregate='raw' also up to
    max_points samples spread over the window. truncated=true means the window held more
    samples than allowed and the summary stops at last_time.
    """
    conn, catalog = _deps(ctx)
    tag = catalog.tag(args.tag)
    start, end = _history.window(ctx.clock(), args.window_minutes)
    return await _history.tag_history(
        conn,
        tag,
        start=start,
        end=end,
        settings=ctx.settings.opcua,
        keep_points=args.max_points if args.aggregate == "raw" else 0,
    )


@tool()
async def active_alarms(ctx: ToolContext, args: NoArgs) -> Alarms:
    """The alarms active right now, most severe first: source tag, severity (1-1000),
    message and since when."""
    conn, catalog = _deps(ctx)
    return Alarms.of(await _alarms.active_alarms(conn, catalog), "active alarms")


@tool()
async def recent_events(ctx: ToolContext, args: RecentEventsArgs) -> Alarms:
    """Alarm and event notifications of the last window_minutes, newest first (alarms
    raised and cleared). Only events since the agent connected are known."""
    conn, catalog = _deps(ctx)
    log = await _alarms.event_log(conn, catalog)
    since, _ = _history.window(ctx.clock(), args.window_minutes)
    return Alarms.of(log.recent(since, args.limit), "alarm events")


TOOLS = (
    list_equipment,
    describe_equipment,
    read_tags,
    read_equipment,
    tag_history,
    active_alarms,
    recent_events,
)


def register(registry: ToolRegistry) -> None:
    """Add the OPC UA tools to a registry."""
    registry.register(*TOOLS)
