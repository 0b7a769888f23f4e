"""check_limits: every tag of the plant against its normal range, in one batched read.

"Is anything outside its limits?" is the most common shift question; answering it with a
read of every tag would flood a small model's context, so this tool returns only what is
outside its range, bad or stale, plus how many tags it checked.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from agent.errors import ToolError
from tools.context import ToolContext
from tools.opcua import read as _read
from tools.opcua.models import Reading
from tools.registry import ToolRegistry, tool
from tools.types import EquipmentName


class CheckLimitsArgs(BaseModel):
    """Which equipment to check; all of it when empty."""

    model_config = ConfigDict(extra="forbid")

    equipment: list[EquipmentName] = Field(
        default_factory=list, max_length=20, description="Equipment to check; empty = all."
    )


class OutOfRange(BaseModel):
    """One reading outside its normal range."""

    tag: str
    value: float | int | bool | str | None
    unit: str | None = None
    low: float | None = None
    high: float | None = None
    side: str = Field(description="'low' or 'high'.")


class Untrusted(BaseModel):
    """One reading whose value cannot be trusted."""

    tag: str
    quality: str
    status: str
    stale: bool


class LimitCheck(BaseModel):
    """Tags outside their normal range, and tags whose value cannot be trusted."""

    summary: str = Field(description="One line: what the check found.")
    checked: int = Field(description="How many tags were read.")
    outside: list[OutOfRange] = Field(description="Readings outside their normal range.")
    untrusted: list[Untrusted] = Field(description="Bad, uncertain or stale readings.")
    without_limits: int = Field(description="Tags with no normal range to check against.")


@tool()
async def check_limits(ctx: ToolContext, args: CheckLimitsArgs) -> LimitCheck:
    """Check tags against their normal operating ranges in one read: returns only the
    readings outside their range (out_of_limits 'low' or 'high') and the bad, uncertain
    or stale ones, with how many tags were checked. Use it for "is anything abnormal?"."""
    if ctx.opcua is None or ctx.catalog is None:
        raise ToolError("not connected to the plant", fix="connect to the OPC UA server")
    catalog = ctx.catalog
    names = args.equipment or catalog.equipment_names()
    tags = [tag for name in names for tag in catalog.tags_of(name)]
    settings = ctx.settings.opcua
    readings: list[Reading] = []
    # Big servers are read in batches of the configured size, never in one huge request.
    for start in range(0, len(tags), settings.max_tags_per_read):
        readings += await _read.read_tag_infos(
            ctx.opcua,
            tags[start : start + settings.max_tags_per_read],
            clock=ctx.clock,
            stale_after_s=settings.stale_after_s,
        )
    outside = [r for r in readings if r.out_of_limits is not None]
    untrusted = [r for r in readings if r.quality != "good" or r.stale]
    return LimitCheck(
        summary=_summary(len(readings), outside, untrusted),
        checked=len(readings),
        outside=[
            OutOfRange(tag=r.tag, value=r.value, unit=r.unit, low=r.low, high=r.high,
                       side=str(r.out_of_limits))
            for r in outside
        ],
        untrusted=[
            Untrusted(tag=r.tag, quality=r.quality, status=r.status, stale=r.stale)
            for r in untrusted
        ],
        without_limits=sum(1 for t in tags if t.eu_low is None and t.eu_high is None),
    )


def _summary(checked: int, outside: list[Reading], untrusted: list[Reading]) -> str:
    # Stated outright, because a small model reads an empty list as "nothing to say".
    parts = []
    if outside:
        equipment = sorted({r.tag.split(".", 1)[0] for r in outside})
        # Value, limit and unit, so an answer that repeats the summary states all three.
        names = "; ".join(_outside_text(r) for r in outside)
        parts.append(
            f"{len(outside)} of {checked} tags are outside their normal range, on "
            f"{', '.join(equipment)}: {names}"
        )
    else:
        parts.append(f"all {checked} tags are inside their normal ranges")
    if untrusted:
        parts.append(f"{len(untrusted)} readings are bad, uncertain or stale: "
                     + ", ".join(r.tag for r in untrusted))
    return "; ".join(parts) + "."


def _outside_text(r: Reading) -> str:
    """'S-2010.DP is 580.4 mbar, above its high limit of 400 mbar'."""
    unit = f" {r.unit}" if r.unit else ""
    value = f"{r.value:g}" if isinstance(r.value, float) else str(r.value)
    if r.out_of_limits == "high" and r.high is not None:
        return f"{r.tag} is {value}{unit}, above its high limit of {r.high:g}{unit}"
    if r.out_of_limits == "low" and r.low is not None:
        return f"{r.tag} is {value}{unit}, below its low limit of {r.low:g}{unit}"
    return f"{r.tag} is {value}{unit} ({r.out_of_limits})"


def register(registry: ToolRegistry) -> None:
    """Add check_limits."""
    registry.register(check_limits)
