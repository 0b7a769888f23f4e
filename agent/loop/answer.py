"""The record of one answered question, as `plantagent ask --json` prints it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class StepRecord(BaseModel):
    """One tool call the agent made and what came back."""

    evidence_id: str | None = Field(description="Id the answer can cite; None when refused.")
    tool: str
    args: dict[str, Any]
    result: Any
    ok: bool = Field(description="False when the tool failed or the policy refused it.")


class UnsupportedClaim(BaseModel):
    """A part of the answer that no cited evidence supports."""

    kind: str
    text: str
    reason: str


class Timings(BaseModel):
    """Where the time went, in seconds."""

    total_s: float = 0.0
    model_s: float = 0.0
    tools_s: float = 0.0
    model_steps: int = 0
    prompt_tokens_evaluated: int = 0
    completion_tokens: int = 0
    first_token_s: float | None = Field(None, description="Time to the first generated token.")


class AgentAnswer(BaseModel):
    """The answer to one question, with its evidence and grounding verdict."""

    question: str
    answer: str
    outcome: Literal["answered", "cannot_answer", "budget_exhausted"]
    citations: list[str] = Field(default_factory=list)
    steps: list[StepRecord] = Field(default_factory=list)
    grounded: bool
    unsupported: list[UnsupportedClaim] = Field(default_factory=list)
    model: str
    model_sha256: str
    timings: Timings = Field(default_factory=Timings)
