"""What the loop needs of the audit log: append one record per action, or fail closed.

agent.audit.AuditLog satisfies this; an append that raises stops the action it describes.
"""

from __future__ import annotations

from typing import Any, Protocol


class AuditSink(Protocol):
    """Appends one audit record; raises when the record cannot be written."""

    def append(
        self,
        kind: str,
        actor: str,
        payload: dict[str, Any],
        *,
        role: str | None = None,
        tool: str | None = None,
        equipment: str | None = None,
    ) -> Any:
        """Write one record durably before returning."""
        ...
