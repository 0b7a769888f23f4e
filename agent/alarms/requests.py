"""Shelve requests: one shelve or unshelve of one condition, with its reason and fate."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

ShelveKind = Literal["timed", "one_shot", "unshelve"]
ShelveState = Literal[
    "pending",  # waits for an approver
    "approved",  # approved (by a person, or by the policy when it asks for no approval)
    "denied",
    "expired",
    "executing",  # claimed: the call to the server is under way
    "executed",  # done and read back
    "failed",  # the server refused it or it did not read back
]
#: States after which a request is never used again.
FINAL_STATES: frozenset[str] = frozenset({"denied", "expired", "executed", "failed"})


class ShelveRequest(BaseModel):
    """A shelve (timed or one-shot) or an unshelve, bound to one condition."""

    id: str
    kind: ShelveKind
    condition_id: str = Field(description="Expanded node id of the condition.")
    condition: str = Field(description="Its name, e.g. 'P-101.Vibration.High'.")
    source: str
    severity: int
    priority: str
    event_id: str | None = Field(None, description="EventId of the state when asked (hex).")
    minutes: float | None = Field(None, description="Timed shelve: its length.")
    reason: str
    requested_by: str
    requested_role: str
    requested_account: str | None = Field(
        None, description="The OS account of the process that asked.")
    created_at: datetime
    expires_at: datetime
    approval_required: bool
    approver_roles: list[str] = Field(default_factory=list)
    two_person_rule: bool = True
    action_digest: str = Field("", description="SHA-256 of the exact action (signed).")
    policy_digest: str = Field("", description="SHA-256 of the policy it was asked under.")
    state: ShelveState = "pending"
    decided_by: str | None = None
    decided_role: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None
    executed_by: str | None = None
    executed_at: datetime | None = None
    outcome: str | None = Field(None, description="What the server reads back afterwards.")
    read_back: dict[str, Any] | None = Field(None, description="The condition afterwards.")
    failure: str | None = None

    @property
    def tool(self) -> str:
        """The tool the request runs once approved."""
        return "unshelve_alarm" if self.kind == "unshelve" else "shelve_alarm"

    def tool_args(self) -> dict[str, Any]:
        """The arguments of that tool."""
        args: dict[str, Any] = {"condition": self.condition_id, "reason": self.reason}
        if self.kind == "timed":
            args["minutes"] = self.minutes
        return args

    def what(self) -> str:
        """'shelve P-101.Vibration.High for 30 min', for lists and messages."""
        if self.kind == "timed":
            return f"shelve {self.condition} for {self.minutes:g} min"
        if self.kind == "one_shot":
            return f"shelve {self.condition} until it returns to normal"
        return f"unshelve {self.condition}"

    def summary(self) -> str:
        """One line: id, what, state."""
        return f"{self.id}: {self.what()} ({self.state})"
