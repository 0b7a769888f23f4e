"""Model calls, each recorded in the audit log: the answers' steps, triage summaries and
the shift handover all call the model through :class:`ModelCalls`.

Inference runs in a worker thread and so does the audit append (an fsync), so the event
loop stays free. Recording fails closed as every audit append does: when the record
cannot be written, the call's output is not used (AuditWriteError propagates).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.audit.sink import AuditSink
from agent.errors import ModelOutputError
from agent.llm.base import ChatMessage, ChatModel, JsonSchema, StepResult, TokenCallback, astep


@dataclass
class CallStats:
    """What the calls cost, summed."""

    calls: int = 0
    model_s: float = 0.0
    prompt_tokens_evaluated: int = 0
    completion_tokens: int = 0
    first_token_s: float | None = None
    results: list[StepResult] = field(default_factory=list)
    cut_off: list[str] = field(default_factory=list)


class ModelCalls:
    """One model, and who the calls are made for (audited as ``actor`` in ``role``)."""

    def __init__(self, model: ChatModel, audit: AuditSink | None, *, actor: str,
                 role: str | None = None, purpose: str = "answer") -> None:
        self.model = model
        self.audit = audit
        self.actor = actor
        self.role = role
        self.purpose = purpose
        self.stats = CallStats()

    async def step(
        self,
        prefix: Sequence[ChatMessage],
        history: Sequence[ChatMessage],
        schema: JsonSchema,
        *,
        max_tokens: int,
        on_token: TokenCallback | None = None,
        purpose: str | None = None,
    ) -> StepResult:
        """One step, recorded; ModelOutputError (recorded as an error) when the output
        does not validate, ModelError when the model cannot run."""
        started = time.monotonic()
        first: list[float] = []

        def token(text: str) -> None:
            if not first:
                first.append(time.monotonic() - started)
            if on_token is not None:
                on_token(text)

        try:
            result = await astep(self.model, prefix, history, schema, on_token=token,
                                 max_tokens=max_tokens)
        except ModelOutputError as exc:
            self.stats.cut_off.append(exc.text)
            await self.record("error", {"stage": "model_call",
                                        "purpose": purpose or self.purpose,
                                        "model": self.model.info.name,
                                        "error": exc.message, "output": exc.text})
            raise
        stats = self.stats
        stats.calls += 1
        stats.model_s += result.timings.total_s
        stats.prompt_tokens_evaluated += result.prompt_tokens_evaluated
        stats.completion_tokens += result.completion_tokens
        if stats.first_token_s is None and first:
            stats.first_token_s = round(first[0], 3)
        stats.results.append(result)
        await self.record("model_call", {
            "purpose": purpose or self.purpose,
            "model": self.model.info.name,
            "model_sha256": self.model.info.sha256,
            "prompt_hash": result.prompt_hash,
            "prefix_hash": result.prefix_hash,
            "output": result.text,
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
        })
        return result

    async def record(self, kind: str, payload: dict[str, Any], **extra: Any) -> None:
        """Append one audit record off the event loop (nothing without an audit log)."""
        if self.audit is None:
            return
        await asyncio.to_thread(self.audit.append, kind, self.actor, payload,
                                role=self.role, **extra)
