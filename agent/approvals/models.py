"""Approval requests as stored and shown: bound to one node, one value, one requester."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ApprovalState = Literal[
    "pending",  # waits for an approver
    "approved",  # a person approved it; not yet written
    "denied",  # a person refused it
    "expired",  # nobody acted before expires_at
    "executing",  # claimed by the executor (single use): the write is under way
    "executed",  # written and read back
    "failed",  # claimed, but the write was refused or did not read back
]
#: States after which a request can never be used again.
FINAL_STATES: frozenset[str] = frozenset({"denied", "expired", "executed", "failed"})


class WriteTarget(BaseModel):
    """The exact node a request writes: never a tag name alone, which a browse may remap."""

    model_config = ConfigDict(frozen=True)

    tag: str = Field(description="Tag name as the catalog lists it, e.g. 'T-101.LevelSetpoint'.")
    node_id: str = Field(description="Expanded node id with namespace URI (nsu=...;s=...).")
    namespace_uri: str
    browse_path: list[str] = Field(description="Browse names from Objects down to the node.")
    unit: str | None = None
    eu_low: float | None = None
    eu_high: float | None = None


class SignedDecision(BaseModel):
    """One person's signed decision on a request (agent.people.statements)."""

    person: str = Field(description="The person's key (normalised name).")
    role: str
    verb: Literal["approve", "deny", "cancel", "execute"]
    at: datetime
    signed: dict[str, Any] = Field(description="The SignedStatement, as JSON.")


class ApprovalRequest(BaseModel):
    """One proposed write and everything that happened to it."""

    id: str
    kind: Literal["setpoint_write"] = "setpoint_write"
    target: WriteTarget
    value: float = Field(description="The exact value to write.")
    rule: str = Field(description="Name of the write rule that allows the node.")
    requested_by: str
    requested_role: str
    requested_account: str | None = Field(
        None, description="The OS account of the process that made the request.")
    reason: str
    evidence_ids: list[str] = Field(default_factory=list)
    approver_roles: list[str]
    two_person_rule: bool
    approvals_required: int = Field(1, ge=1, description="Distinct approvers needed.")
    bounds: dict[str, float] = Field(
        default_factory=dict, description="The rule's min, max and max_step at proposal.")
    policy_digest: str = Field("", description="SHA-256 of the policy the request was made under.")
    action_digest: str = Field("", description="SHA-256 of the exact action (see authority).")
    approvals: list[SignedDecision] = Field(
        default_factory=list, description="Signed approvals so far, one per person.")
    created_at: datetime
    expires_at: datetime
    state: ApprovalState = "pending"
    decided_by: str | None = None
    decided_role: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None
    executed_by: str | None = None
    executed_at: datetime | None = None
    old_value: float | None = Field(None, description="Value read just before the write.")
    read_back: float | None = Field(None, description="Value read just after the write.")
    failure: str | None = None
    undo_of: str | None = Field(None, description="The request this one would undo.")
    undo_request: str | None = Field(None, description="The request created to undo this one.")

    def summary(self) -> str:
        """One line for lists and audit payloads."""
        unit = f" {self.target.unit}" if self.target.unit else ""
        return f"{self.id}: set {self.target.tag} to {self.value:g}{unit} ({self.state})"
