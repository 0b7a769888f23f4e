"""A model whose step in flight stops at its next token once its job is cancelled: a
handover written through the service and then cancelled gives the model back at once, as
a cancelled question does (agent.service.service.AgentService.ask), instead of running
its step to the end in a worker thread while the next job waits for the model."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from agent.llm.base import ChatMessage, ChatModel, JsonSchema, ModelInfo, StepResult, TokenCallback


class JobCancelled(Exception):
    """Raised in the model's token callback to cut a cancelled job's step short."""


class StoppableModel:
    """``model`` for one job; ``stop`` set (the job was cancelled): the step in flight
    raises :class:`JobCancelled` at its next token, and every later step at once."""

    def __init__(self, model: ChatModel, stop: threading.Event) -> None:
        self.model = model
        self.stop = stop

    @property
    def info(self) -> ModelInfo:
        """The model's own."""
        return self.model.info

    def step(self, prefix: Sequence[ChatMessage], history: Sequence[ChatMessage],
             schema: JsonSchema, *, on_token: TokenCallback | None = None,
             max_tokens: int = 512) -> StepResult:
        """The model's step, cut at the first token after ``stop`` is set."""
        def token(text: str) -> None:
            if self.stop.is_set():
                raise JobCancelled("the job was cancelled")
            if on_token is not None:
                on_token(text)

        if self.stop.is_set():
            raise JobCancelled("the job was cancelled")
        return self.model.step(prefix, history, schema, on_token=token, max_tokens=max_tokens)

    def count_tokens(self, text: str) -> int:
        """The model's own tokenizer."""
        return self.model.count_tokens(text)

    def close(self) -> None:
        """Nothing: the model is the service's, shared by every job."""
