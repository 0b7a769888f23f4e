"""What the policy decides and from what: tool calls, and changes of the plant.

Both decisions are pure: deciding never creates an approval request or anything else.
Making a proposal is a separate, explicit step after an allowing :class:`ChangeDecision`
(``ApprovalService.propose_change``).

The person's change request is an explicit input of a change decision
(:class:`ChangeRequest`), read deterministically from the person's own question; tool
results and model text never produce one, so a payload planted in a manual, a work order
or an OPC UA string cannot start a change.

:class:`ReadOnlyGate` is the gate of an agent built without the policy engine (tests):
reads are allowed and anything that would change the plant is refused here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from agent.policy.writes import WriteTerms
from tools.registry import ToolSpec

if TYPE_CHECKING:
    from tools.opcua.models import TagInfo

Language = Literal["en", "de", "fr", "es"]


@dataclass(frozen=True)
class Decision:
    """The gate's verdict on one proposed tool call."""

    allowed: bool
    reason: str
    rule: str


@dataclass(frozen=True)
class ChangeRequest:
    """A change the person asked for, read from their own words only.

    ``tag`` is the setpoint the words name (None when they name none, or several:
    ``candidates`` then lists them); ``value`` the number asked for (None when the person
    gave words instead, e.g. "max": ``value_words``)."""

    text: str
    language: Language = "en"
    equipment: tuple[str, ...] = ()
    tag: str | None = None
    candidates: tuple[str, ...] = ()
    value: float | None = None
    value_words: str | None = None


RefusalKind = Literal[
    "unknown-role",  # the role is not in the policy
    "may-not-propose",  # the role may not request plant changes
    "no-approvals",  # no approval workflow on this site (read-only agent)
    "not-requested",  # the person did not ask for this change
    "no-target",  # the words name no setpoint
    "ambiguous-target",  # the words name several setpoints
    "not-writable",  # the tag is not on the write allowlist
    "no-number",  # no exact value was given ("max", "higher")
    "out-of-bounds",  # outside the write rule's min/max
    "outside-eu-range",  # outside the node's own engineering range
    "step-too-large",  # further from the current value than one step allows
    "no-change",  # the setpoint already has that value
]


@dataclass(frozen=True)
class Alternative:
    """A setpoint the person could ask for instead, with the range its rule allows."""

    tag: str
    low: float
    high: float
    unit: str | None = None


@dataclass(frozen=True)
class Refusal:
    """Why a change was refused, in parts the answer states: the rule, the range, and
    what the person can ask instead."""

    kind: RefusalKind
    detail: str
    rule_name: str | None = None
    low: float | None = None  # the rule's (or range's) lowest allowed value
    high: float | None = None
    max_step: float | None = None
    #: The nearest value one request may set now (the person can ask for it instead).
    suggestion: float | None = None
    #: Setpoints the person could name instead (not-writable, no-target, ambiguous).
    alternatives: tuple[Alternative, ...] = ()
    #: Roles whose people may request changes (may-not-propose).
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangeDecision:
    """The verdict on one plant change: allowed (then a proposal may be made) or refused
    with a structured :class:`Refusal`. Nothing happened because of it."""

    allowed: bool
    reason: str
    rule: str
    requested: ChangeRequest | None
    tag: TagInfo | None = None
    value: float | None = None
    current: float | None = None
    terms: WriteTerms | None = None
    refusal: Refusal | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def audit_payload(self) -> dict[str, Any]:
        """The decision as the audit log records it."""
        req = self.requested
        return {
            "action": "change", "tag": self.tag.name if self.tag else None,
            "value": self.value, "current": self.current, "allowed": self.allowed,
            "reason": self.reason, "rule": self.rule,
            "refusal": self.refusal.kind if self.refusal else None,
            "requested": None if req is None else {
                "text": req.text, "tag": req.tag, "value": req.value,
                "value_words": req.value_words, "language": req.language},
        }


class PolicyGate(Protocol):
    """Decides whether ``actor`` in ``role`` may run a tool, or change the plant."""

    def decide(self, actor: str, role: str, spec: ToolSpec, args: dict[str, Any]) -> Decision:
        """The verdict; the loop audits it and runs the tool only when allowed."""
        ...

    def decide_change(
        self,
        actor: str,
        role: str,
        requested: ChangeRequest | None,
        target: TagInfo | None,
        *,
        current: float | None,
        catalog_tags: Sequence[TagInfo] = (),
    ) -> ChangeDecision:
        """The verdict on setting ``target`` as the person ``requested`` (pure);
        ``catalog_tags``: the plant's tags, to name writable ones in a refusal."""
        ...


class ReadOnlyGate:
    """Allows tools that only read; refuses plant writes and anything needing approval."""

    def decide(self, actor: str, role: str, spec: ToolSpec, args: dict[str, Any]) -> Decision:
        """Allow reads, refuse writes (no approval workflow is configured yet)."""
        if spec.writes_to_plant or spec.requires_approval:
            return Decision(
                False,
                f"{spec.name} changes the plant and needs a human approval; "
                "no approval workflow is configured on this site",
                "read-only-default",
            )
        return Decision(True, "read-only tool", "read-only-default")

    def decide_change(
        self,
        actor: str,
        role: str,
        requested: ChangeRequest | None,
        target: TagInfo | None,
        *,
        current: float | None,
        catalog_tags: Sequence[TagInfo] = (),
    ) -> ChangeDecision:
        """Refuse: no approval workflow is configured on this site."""
        detail = "no approval workflow is configured on this site, so no change can be requested"
        return ChangeDecision(False, detail, "read-only-default", requested, target,
                              requested.value if requested else None, current,
                              refusal=Refusal("no-approvals", detail))
