"""The what-if agent tool: what_if(equipment, change, hours)."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, ConfigDict, Field

from agent.errors import ToolError
from agent.twin.assets.store import AssetModel
from agent.twin.whatif.engine import MAX_HOURS
from agent.twin.whatif.engine import what_if as run_what_if
from agent.twin.whatif.records import WhatIfResult
from tools.context import ToolContext
from tools.history import historian_of
from tools.registry import ToolRegistry, tool
from tools.types import EquipmentName


class WhatIfArgs(BaseModel):
    """A proposed change to one equipment and how far ahead to predict."""

    model_config = ConfigDict(extra="forbid")

    equipment: EquipmentName
    change: str = Field(
        min_length=1,
        max_length=80,
        description="'setpoint=VALUE' for a setpoint ('speed=VALUE' for a fan), or a "
        "maintenance action: clean, "
        "restore_cooling, replace_filter, replace_bearing, repair_valve, repair_fan, "
        "clean_condenser, clear_fault.",
    )
    hours: float = Field(2.0, gt=0, le=MAX_HOURS, description="How far ahead to predict.")


def assets_of(ctx: ToolContext) -> AssetModel:
    """The asset model the composition root put into the context, or a ToolError."""
    assets = getattr(ctx, "assets", None)
    if not isinstance(assets, AssetModel):
        raise ToolError(
            "the asset model is not available in this session",
            fix="answer without a what-if; a person can run `plantagent twin sync`",
        )
    return assets


@tool()
async def what_if(ctx: ToolContext, args: WhatIfArgs) -> WhatIfResult:
    """Predict what a proposed change would do to one equipment over the next hours.

    Runs the equipment's physics model (fitted to recent history) with and without the
    change and returns each tag now and at the end, and the limits it would cross and
    after how many minutes. Changes far outside the model's valid range are refused.
    Predictions assume disturbances stay as they are; they are estimates, not facts.
    """
    assets, historian = assets_of(ctx), historian_of(ctx)
    return await asyncio.to_thread(
        run_what_if,
        assets,
        historian,
        args.equipment,
        args.change,
        hours=args.hours,
        now=ctx.clock(),
    )


def register(registry: ToolRegistry) -> None:
    """Add what_if (needs ``ctx.assets`` and ``ctx.historian``)."""
    registry.register(what_if)
