"""The policy decision the loop consults before every tool call (the engine implements it).

:class:`ReadOnlyGate` is the gate of an agent built without the policy engine (tests): reads are
allowed and anything that would change the plant is refused here, whatever the model says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from tools.registry import ToolSpec


@dataclass(frozen=True)
class Decision:
    """The gate's verdict on one proposed tool call."""

    allowed: bool
    reason: str
    rule: str


class PolicyGate(Protocol):
    """Decides whether ``actor`` in ``role`` may run ``spec`` with ``args``."""

    def decide(self, actor: str, role: str, spec: ToolSpec, args: dict[str, Any]) -> Decision:
        """The verdict; the loop audits it and runs the tool only when allowed."""
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
