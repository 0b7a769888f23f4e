"""The verdict of the grounding check: each checked claim, and the report on a text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from agent.pipeline.grounding.text import Sentence

ClaimKind = Literal["value", "limit", "history", "request", "time", "duration", "number",
                    "unit", "tag", "equipment", "record", "relation", "trend"]


@dataclass(frozen=True)
class Claim:
    """One checked piece of an answer, in sentence ``sentence``."""

    kind: ClaimKind
    text: str
    supported: bool
    reason: str = ""
    sentence: int = 0
    tags: tuple[str, ...] = ()


@dataclass
class GroundingReport:
    """The verdict on a text: its claims, and the subject tags of each sentence."""

    claims: list[Claim]
    sentences: list[Sentence]
    subjects: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def grounded(self) -> bool:
        """True when every claim is supported."""
        return all(c.supported for c in self.claims)

    @property
    def unsupported(self) -> list[Claim]:
        """The claims the evidence does not support."""
        return [c for c in self.claims if not c.supported]

    def bad_sentences(self) -> dict[int, list[Claim]]:
        """Sentence index -> its unsupported claims."""
        out: dict[int, list[Claim]] = {}
        for claim in self.unsupported:
            out.setdefault(claim.sentence, []).append(claim)
        return out
