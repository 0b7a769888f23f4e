"""The plant write tool. It exists so the policy engine and the approval flow have a real
target, and it refuses every call until the policy gate is wired in: nothing is written.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from agent.errors import WriteRefused
from tools.context import ToolContext
from tools.registry import tool
from tools.types import TagName


class WriteTagArgs(BaseModel):
    """A proposed setpoint change."""

    model_config = ConfigDict(extra="forbid")

    tag: TagName
    value: float = Field(description="The new value, in the tag's engineering unit.")
    reason: str = Field(
        min_length=3, max_length=500, description="Why the change is needed, for the approver."
    )


class WriteResult(BaseModel):
    """What happened to a write (never returned while writes are refused)."""

    tag: str
    written: bool
    value: float | None = None


@tool(requires_approval=True, writes_to_plant=True)
async def write_tag(ctx: ToolContext, args: WriteTagArgs) -> WriteResult:
    """Propose writing a new value to a plant tag (a setpoint). Needs a person's approval.

    Writes are currently disabled: this always refuses. Suggest the change to the operator
    in your answer instead.
    """
    raise WriteRefused(
        f"writing {args.tag} refused: no policy gate is configured",
        fix="plant writes stay disabled until the policy engine is configured; propose the "
        "change to the operator instead",
    )
