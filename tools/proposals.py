"""propose_setpoint_change: the agent's only way toward a plant write, and it writes nothing.

The tool checks the proposal against the policy (write allowlist, bounds, the node's
EURange, an explicit number) and stores a pending approval request a person must approve
(`plantagent approve ID`). Register it with :func:`register`, handing it the site's
ApprovalService; there is deliberately no tool that approves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from agent.approvals.service import ApprovalService
from agent.errors import ToolError
from tools.context import ToolContext
from tools.registry import ToolRegistry, tool
from tools.types import TagName

#: Who is proposing: (actor, role). Defaults to the settings' agent.user and agent.role.
Identity = Callable[[ToolContext], tuple[str, str]]


class ProposeSetpointArgs(BaseModel):
    """A proposed new value for one setpoint."""

    tag: TagName
    value: float = Field(description="The exact new value, a number in the tag's unit.")
    reason: str = Field(min_length=3, max_length=500, description="Why the change is needed.")
    evidence_ids: list[str] = Field(
        default_factory=list, max_length=20, description="Evidence ids supporting it, e.g. E3."
    )

    @field_validator("value", mode="before")
    @classmethod
    def _explicit_number(cls, value: Any) -> Any:
        # "max", "a bit higher", "normal" are not values a person can check and approve.
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise ValueError(
                    f"{value!r} is not a number: a proposal must carry the exact value to "
                    "write (e.g. 55.0), not a word like 'max'"
                ) from None
        return value


class ProposalResult(BaseModel):
    """A pending approval request: nothing has been written."""

    request_id: str
    tag: str
    value: float
    unit: str | None
    state: str
    rule: str
    approver_roles: list[str]
    expires_at: datetime
    note: str


def _settings_identity(ctx: ToolContext) -> tuple[str, str]:
    return ctx.settings.agent.user, ctx.settings.agent.role


def register(
    registry: ToolRegistry, service: ApprovalService, *, identity: Identity = _settings_identity
) -> None:
    """Add propose_setpoint_change, bound to ``service``."""

    @tool()
    async def propose_setpoint_change(
        ctx: ToolContext, args: ProposeSetpointArgs
    ) -> ProposalResult:
        """Propose a new value for a setpoint. Nothing is written: this creates an approval
        request that an engineer must approve. Give the exact number, the reason and the
        evidence ids that support it."""
        if ctx.catalog is None:
            raise ToolError("no plant catalog", fix="browse the OPC UA server first")
        actor, role = identity(ctx)
        request = await asyncio.to_thread(
            service.propose_for_tag, actor=actor, role=role, catalog=ctx.catalog,
            tag=args.tag, value=args.value, reason=args.reason, evidence_ids=args.evidence_ids,
        )
        return ProposalResult(
            request_id=request.id, tag=request.target.tag, value=request.value,
            unit=request.target.unit, state=request.state, rule=request.rule,
            approver_roles=request.approver_roles, expires_at=request.expires_at,
            note=f"not written; waits for approval by {' or '.join(request.approver_roles)}",
        )

    registry.register(propose_setpoint_change)
