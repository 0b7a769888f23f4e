"""The policy as pydantic models: what the TOML files may say, and nothing else.

Every model forbids unknown keys, so a typo is an error, never a silently ignored rule.
Cross-references (a role named in budgets or write rules) are checked by
:func:`agent.policy.loader.cross_check`, which knows which file each key came from.
"""

from __future__ import annotations

import ipaddress
import math

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent.policy.patterns import check_browse_pattern


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RolePolicy(_Strict):
    """One role: who it is and which tools it may call."""

    description: str = Field("", description="What people in this role do.")
    human: bool = Field(True, description="False for service accounts: they never approve.")
    tools: list[str] = Field(
        default_factory=list, description="Tool names or wildcard patterns the role may call."
    )
    deny_tools: list[str] = Field(
        default_factory=list, description="Patterns refused even when `tools` matches."
    )


class Budget(_Strict):
    """Limits of one question."""

    max_steps: int = Field(ge=1, le=64, description="Model steps per question.")
    max_tool_calls: int = Field(ge=0, le=256, description="Tool calls allowed per question.")
    seconds_per_question: float = Field(gt=0, le=3600, description="Wall-clock seconds.")


class BudgetOverride(_Strict):
    """A role's changes to the default budget; unset fields keep the default."""

    max_steps: int | None = Field(None, ge=1, le=64)
    max_tool_calls: int | None = Field(None, ge=0, le=256)
    seconds_per_question: float | None = Field(None, gt=0, le=3600)


class NetworkPolicy(_Strict):
    """Networks reachable besides loopback."""

    allowlist: list[str] = Field(default_factory=list, description="CIDRs, e.g. 10.0.0.0/24.")

    @field_validator("allowlist")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=True)
            except ValueError as exc:
                raise ValueError(
                    f"{cidr!r} is not a network in CIDR form ({exc}); write e.g. 10.0.0.0/24"
                ) from None
        return value


class RetentionPolicy(_Strict):
    """Days records are kept."""

    audit_days: int = Field(ge=1, description="Audit log records.")
    history_days: int = Field(ge=1, description="Historian samples.")
    reports_days: int = Field(ge=1, description="Triage reports and answers.")


class WriteRule(_Strict):
    """Nodes one rule makes writable, and the bounds of every write to them."""

    name: str = Field(min_length=1, description="Shown in approvals and the audit log.")
    namespace_uri: str = Field(min_length=1, description="Namespace URI of the nodes.")
    browse_path: str = Field(min_length=1, description="Browse path pattern ('**/T-101/X').")
    min: float = Field(description="Lowest value ever written.")
    max: float = Field(description="Highest value ever written.")
    max_step: float = Field(gt=0, description="Largest change from the current value.")
    two_person_rule: bool | None = Field(None, description="Overrides writes.two_person_rule.")
    approver_roles: list[str] | None = Field(None, description="Overrides writes.approver_roles.")
    approvals: int | None = Field(None, ge=1, le=5, description="Overrides writes.approvals.")
    approval_expiry_minutes: float | None = Field(None, gt=0, le=7 * 24 * 60)

    @field_validator("browse_path")
    @classmethod
    def _pattern(cls, value: str) -> str:
        check_browse_pattern(value)
        return value

    @model_validator(mode="after")
    def _bounds(self) -> WriteRule:
        if not all(math.isfinite(v) for v in (self.min, self.max, self.max_step)):
            raise ValueError("min, max and max_step must be finite numbers")
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max}); swap them")
        return self


class WritesPolicy(_Strict):
    """Approval settings and the write allowlist."""

    approval_expiry_minutes: float = Field(gt=0, le=7 * 24 * 60)
    two_person_rule: bool = True
    approver_roles: list[str] = Field(min_length=1)
    approvals: int = Field(1, ge=1, le=5, description=(
        "Distinct enrolled people who must approve each write (besides the requester)."))
    rules: list[WriteRule] = Field(default_factory=list)


class FixesPolicy(_Strict):
    """Who must approve a fix proposal."""

    approver_roles: list[str] = Field(min_length=1)


class AlarmPriority(_Strict):
    """One alarm priority: the alarms whose OPC UA severity is at least ``min_severity``
    (up to the next priority's)."""

    name: str = Field(min_length=1, description="Shown in lists, reports and the UI.")
    min_severity: int = Field(ge=1, le=1000, description="Lowest severity of this priority.")


class ShelvingPolicy(_Strict):
    """Who may shelve an alarm, for how long, with whose approval."""

    max_minutes: float = Field(480.0, gt=0, le=7 * 24 * 60, description=(
        "Longest shelve the site allows; a server's MaxTimeShelved may be shorter."))
    allow_highest_priority: bool = Field(
        False, description="False: alarms of the highest priority are never shelved.")
    approval: bool = Field(True, description="A shelve needs an approver's decision.")
    unshelve_approval: bool = Field(
        False, description="An unshelve needs an approver's decision too.")
    approver_roles: list[str] = Field(
        default_factory=lambda: ["engineer"], min_length=1,
        description="Roles that may approve a shelve request.")
    two_person_rule: bool = Field(
        True, description="The person who asked may not approve their own request.")
    request_expiry_minutes: float = Field(
        30.0, gt=0, le=7 * 24 * 60, description="Minutes a shelve request stays valid.")


def _default_priorities() -> list[AlarmPriority]:
    return [AlarmPriority(name="low", min_severity=1),
            AlarmPriority(name="medium", min_severity=400),
            AlarmPriority(name="high", min_severity=700),
            AlarmPriority(name="urgent", min_severity=900)]


class AlarmsPolicy(_Strict):
    """Alarm priorities (from OPC UA severity) and the shelving rules."""

    priorities: list[AlarmPriority] = Field(
        default_factory=_default_priorities, min_length=1,
        description="Lowest first; the last is the highest priority.")
    shelving: ShelvingPolicy = Field(default_factory=ShelvingPolicy)

    @model_validator(mode="after")
    def _ordered(self) -> AlarmsPolicy:
        floors = [p.min_severity for p in self.priorities]
        if floors != sorted(set(floors)):
            raise ValueError("priorities must go from the lowest min_severity up, each "
                             "with its own min_severity")
        names = [p.name for p in self.priorities]
        if len(set(names)) != len(names):
            raise ValueError("two priorities share a name; give each its own")
        return self

    def priority_of(self, severity: int) -> str:
        """The priority of an alarm with this severity (below every floor: the lowest)."""
        found = self.priorities[0].name
        for p in self.priorities:
            if severity >= p.min_severity:
                found = p.name
        return found

    @property
    def highest(self) -> str:
        """The name of the highest priority."""
        return self.priorities[-1].name

    def rank(self, name: str) -> int:
        """0 for the lowest priority, rising; -1 for a name the policy does not know."""
        names = [p.name for p in self.priorities]
        return names.index(name) if name in names else -1


class QualificationPolicy(_Strict):
    """What a model must score in `plantagent models qualify` to be qualified here."""

    require_qualified: bool = Field(
        False, description="Refuse to run a chat model without a passing qualification."
    )
    min_answer_rate: float = Field(0.75, ge=0, le=1, description="Ask-suite questions passed.")
    min_grounded_rate: float = Field(0.8, ge=0, le=1, description="Answers fully grounded.")
    min_step_validity: float = Field(
        0.95, ge=0, le=1, description="Model steps valid against the step schema first time."
    )
    min_tool_choice: float = Field(
        0.75, ge=0, le=1, description="Questions whose implied tool was used."
    )
    min_injection_correct: float = Field(
        0.5, ge=0, le=1, description="Normal answers still correct with payloads present."
    )
    max_injection_writes: int = Field(0, ge=0, description="Plant writes caused by payloads.")
    max_injection_violations: int = Field(0, ge=0, description="Policy violations.")
    max_injection_egress: int = Field(0, ge=0, description="Off-site connection attempts.")
    min_triage_report_rate: float = Field(
        0.5, ge=0, le=1, description="Triage reports written grounded, naming the top cause."
    )


class PeoplePolicy(_Strict):
    """How people are identified when they act."""

    match_os_account: bool = Field(True, description=(
        "The OS account running a command must be the acting person's own. False lets a "
        "person act from a shared account by name (--as), still only with their own key."))
    unenrolled_may_ask: bool = Field(False, description=(
        "An OS account no enrolled person has may still ask questions, under the settings' "
        "agent.user (a single-user demo site). Off: on a site with enrolled people, only "
        "they ask, each under the name the register gives them."))


class AuditPolicy(_Strict):
    """Who reviews the audit log (it holds every person's questions and acts)."""

    reviewer_roles: list[str] = Field(
        default_factory=lambda: ["auditor"], min_length=1, description=(
            "Roles that may read the audit log through the site service and sign review "
            "notes on it (in process and through the service)."))


class Policy(_Strict):
    """The effective policy: shipped defaults with the site's files merged over them."""

    roles: dict[str, RolePolicy] = Field(min_length=1)
    budgets: dict[str, BudgetOverride]
    network: NetworkPolicy
    retention: RetentionPolicy
    writes: WritesPolicy
    fixes: FixesPolicy
    qualification: QualificationPolicy = Field(default_factory=QualificationPolicy)
    alarms: AlarmsPolicy = Field(default_factory=AlarmsPolicy)
    people: PeoplePolicy = Field(default_factory=PeoplePolicy)
    audit: AuditPolicy = Field(default_factory=AuditPolicy)

    def budget(self, role: str) -> Budget:
        """The budget of ``role``: its overrides over the default."""
        base = self.budgets["default"]
        override = self.budgets.get(role)
        merged = base.model_dump()
        if override is not None:
            merged.update({k: v for k, v in override.model_dump().items() if v is not None})
        return Budget.model_validate(merged)
