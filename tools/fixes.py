"""propose_fix: turn evidence into a structured, reviewable fix suggestion.

A fix proposal changes nothing. It says what to do, on which equipment, why (with the
evidence ids), the expected effect, the risk and who must approve, and cites the runbook
or incident it comes from. The expected effect is filled by the digital twin's what-if
when one is registered, otherwise it says "not evaluated" rather than guess.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Literal

from pydantic import BaseModel, Field

from agent.policy.models import Policy
from tools.context import ToolContext
from tools.registry import ToolRegistry, tool
from tools.types import EquipmentName

NOT_EVALUATED = "not evaluated"
Risk = Literal["low", "medium", "high"]


class ProposeFixArgs(BaseModel):
    """A suggested fix, built from evidence the agent has gathered."""

    equipment: EquipmentName
    action: str = Field(min_length=3, max_length=400, description="What to do, concretely.")
    why: str = Field(min_length=3, max_length=600, description="Why, from the evidence.")
    evidence_ids: list[str] = Field(
        min_length=1, max_length=20, description="Evidence ids the diagnosis rests on, e.g. E2."
    )
    risk: Risk = Field(description="Risk of doing it: low, medium or high.")
    source: str | None = Field(
        None, max_length=200,
        description="The runbook, manual section or past incident it comes from, if any.",
    )


class FixProposal(BaseModel):
    """A fix suggestion for a person to review; nothing was changed."""

    id: str
    equipment: str
    action: str
    why: str
    evidence_ids: list[str]
    expected_effect: str = Field(description="The twin's what-if result, or 'not evaluated'.")
    risk: Risk
    approver_roles: list[str] = Field(description="Roles that must approve before acting.")
    source: str | None = Field(description="Runbook or incident cited, if any.")
    note: str


#: The twin's what-if: the expected effect of a fix in words, or None if it can not tell.
WhatIf = Callable[[ToolContext, ProposeFixArgs], Awaitable[str | None]]


def register(registry: ToolRegistry, policy: Policy, *, what_if: WhatIf | None = None) -> None:
    """Add propose_fix; ``what_if`` is the twin's estimator when one is available."""

    @tool()
    async def propose_fix(ctx: ToolContext, args: ProposeFixArgs) -> FixProposal:
        """Suggest a fix for a problem you found: the action, the equipment, why (with the
        evidence ids), the risk and the runbook or incident it comes from. Nothing is
        changed; a person reviews the suggestion."""
        if ctx.catalog is not None:
            ctx.catalog.get_equipment(args.equipment)  # UnknownNameError with close names
        effect = await what_if(ctx, args) if what_if is not None else None
        return FixProposal(
            id=f"FX-{secrets.token_hex(3)}",
            equipment=args.equipment,
            action=args.action.strip(),
            why=args.why.strip(),
            evidence_ids=list(dict.fromkeys(args.evidence_ids)),
            expected_effect=effect or NOT_EVALUATED,
            risk=args.risk,
            approver_roles=list(policy.fixes.approver_roles),
            source=args.source,
            note="a suggestion only: nothing was changed; "
            f"{' or '.join(policy.fixes.approver_roles)} must approve before anyone acts",
        )

    registry.register(propose_fix)
