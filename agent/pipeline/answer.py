"""The record of one answered question, as `plantagent ask --json` prints it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, SerializeAsAny


class StepRecord(BaseModel):
    """One tool call the agent made and what came back."""

    evidence_id: str | None = Field(description="Id the answer can cite; None when refused.")
    tool: str
    args: dict[str, Any]
    result: SerializeAsAny[BaseModel] = Field(
        description="The tool's own result model; ToolFailure or Refused when it did not run "
        "or failed (agent.pipeline.evidence)."
    )
    ok: bool = Field(description="False when the tool failed or the policy refused it.")


class UnsupportedClaim(BaseModel):
    """A part of the answer that no cited evidence supports."""

    kind: str
    text: str
    reason: str


class ReplacedText(BaseModel):
    """A sentence of the model's draft the system replaced with its own, and why."""

    text: str
    reasons: list[str]
    by: str = Field(description="What replaced it: the system's sentence, or '' (dropped).")


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
    written_by: Literal["model", "system", "model+system"] = Field(
        "model", description="'system': built by the system from the evidence or the "
        "policy decision (changes, refusals, facts the model could not ground).")
    replaced: list[ReplacedText] = Field(
        default_factory=list, description="Draft sentences the grounding check replaced.")
    model: str
    model_sha256: str
    timings: Timings = Field(default_factory=Timings)
