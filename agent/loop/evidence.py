"""Evidence: every tool result the agent saw, under an id the answer must cite."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Evidence:
    """One tool result. ``data`` is the JSON form of the result; ``text`` what the model saw."""

    id: str
    tool: str
    args: dict[str, Any]
    data: Any
    text: str
    is_error: bool = False


def compact_json(value: Any) -> str:
    """JSON without spaces: fewer prompt tokens for the small model."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass
class EvidenceLog:
    """The evidence of one question, numbered E1, E2, ... in the order it was gathered."""

    items: list[Evidence] = field(default_factory=list)

    def add(
        self, tool: str, args: dict[str, Any], data: Any, *, is_error: bool = False
    ) -> Evidence:
        """Record a tool result and return it with its new id."""
        evidence = Evidence(
            id=f"E{len(self.items) + 1}",
            tool=tool,
            args=args,
            data=data,
            text=compact_json(data),
            is_error=is_error,
        )
        self.items.append(evidence)
        return evidence

    def ids(self) -> list[str]:
        """Ids of results the answer may cite (errors cannot support a claim)."""
        return [e.id for e in self.items if not e.is_error]

    def get(self, evidence_id: str) -> Evidence | None:
        """The evidence with this id, if any."""
        return next((e for e in self.items if e.id == evidence_id), None)
