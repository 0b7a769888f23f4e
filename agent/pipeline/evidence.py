"""Evidence: every result the pipeline saw, under an id the answer must cite, kept as the
typed model the tool returned (grounding and citations read the model, never dict keys).

Results that are not a tool's own model have their own small models here: a failed call,
a refused call, and the system's catalog lookup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field


class ToolFailure(BaseModel):
    """A call that did not produce a result: what went wrong and how to fix it."""

    error: str
    fix: str | None = None
    retryable: bool = False
    did_you_mean: list[str] = Field(default_factory=list)
    details: list[str] = Field(default_factory=list)


class Refused(BaseModel):
    """A call the policy refused: it never ran."""

    refused: str
    rule: str


class CatalogLookup(BaseModel):
    """Names in the question that the plant catalog does not have."""

    unknown_names: list[str]
    known_equipment: list[str]
    note: str


def compact_json(value: Any) -> str:
    """JSON without spaces: fewer prompt tokens for the small model."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass(frozen=True)
class Evidence:
    """One result. ``result`` is the typed model; ``data`` its JSON form (for the audit
    log and the model's view); ``args`` the call's typed arguments, when there was a
    call."""

    id: str
    tool: str
    args: BaseModel | None
    result: BaseModel
    is_error: bool = False
    data: Any = field(default=None, compare=False)
    text: str = field(default="", compare=False)

    @classmethod
    def of(cls, evidence_id: str, tool: str, args: BaseModel | None, result: BaseModel,
           *, is_error: bool = False) -> Evidence:
        """Evidence with its JSON form filled in."""
        data = result.model_dump(mode="json")
        return cls(evidence_id, tool, args, result, is_error, data, compact_json(data))

    def args_json(self) -> dict[str, Any]:
        """The call's arguments as JSON (empty when there was no call)."""
        return self.args.model_dump(mode="json") if self.args is not None else {}


@dataclass
class EvidenceLog:
    """The evidence of one question, numbered E1, E2, ... in the order it was gathered."""

    items: list[Evidence] = field(default_factory=list)

    def add(
        self, tool: str, args: BaseModel | None, result: BaseModel, *, is_error: bool = False
    ) -> Evidence:
        """Record a result and return it with its new id."""
        evidence = Evidence.of(f"E{len(self.items) + 1}", tool, args, result,
                               is_error=is_error)
        self.items.append(evidence)
        return evidence

    def ids(self) -> list[str]:
        """Ids of results the answer may cite (errors cannot support a claim)."""
        return [e.id for e in self.items if not e.is_error]

    def get(self, evidence_id: str) -> Evidence | None:
        """The evidence with this id, if any."""
        return next((e for e in self.items if e.id == evidence_id), None)

    def usable(self) -> list[Evidence]:
        """The results that can support a claim."""
        return [e for e in self.items if not e.is_error]
