"""ScriptedModel: a ChatModel that replays queued steps, for tests of the agent loop.

It behaves like a real backend where the loop can tell: it streams the text to
``on_token``, validates each step against the schema the loop passed (so a scripted step
the real decoder could never produce fails the test), records every request, and raises
ModelOutputError on an invalid step. Queue an exception to simulate a failing model.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Sequence
from typing import Any

from agent.errors import ModelError
from agent.llm.base import (
    ChatMessage,
    JsonSchema,
    ModelInfo,
    StepRequest,
    StepResult,
    StepTimings,
    TokenCallback,
    messages_hash,
)
from agent.llm.schema_check import parse_and_validate


class ScriptedModel:
    """Replays enqueued steps in order; see the module docstring."""

    def __init__(
        self,
        steps: Sequence[str | dict[str, Any] | BaseException] = (),
        *,
        context_tokens: int = 4096,
        validate: bool = True,
    ) -> None:
        self._queue: deque[str | BaseException] = deque()
        self._lock = threading.Lock()
        self._validate = validate
        self._info = ModelInfo(
            name="scripted", sha256="0" * 64, context_tokens=context_tokens, backend="scripted"
        )
        self.requests: list[StepRequest] = []
        self.closed = False
        for item in steps:
            self.enqueue(item)

    @property
    def info(self) -> ModelInfo:
        """A fixed identity: name 'scripted', a zero hash."""
        return self._info

    def enqueue(self, step: str | dict[str, Any] | BaseException) -> None:
        """Queue the next step: JSON text, a dict (serialised), or an exception to raise."""
        with self._lock:
            if isinstance(step, dict):
                self._queue.append(json.dumps(step, ensure_ascii=False))
            else:
                self._queue.append(step)

    @property
    def pending(self) -> int:
        """How many queued steps have not been used yet."""
        return len(self._queue)

    def step(
        self,
        prefix: Sequence[ChatMessage],
        history: Sequence[ChatMessage],
        schema: JsonSchema,
        *,
        on_token: TokenCallback | None = None,
        max_tokens: int = 512,
    ) -> StepResult:
        """Return the next queued step (see :meth:`ChatModel.step`)."""
        with self._lock:
            self.requests.append(
                StepRequest(list(prefix), list(history), schema, max_tokens)
            )
            if not self._queue:
                raise ModelError(
                    "ScriptedModel has no step left to return",
                    fix="enqueue() one step per expected model call",
                )
            item = self._queue.popleft()
        if isinstance(item, BaseException):
            raise item
        if on_token is not None:
            # Stream in small pieces like a tokenizer would, so UI code sees several calls.
            for i in range(0, len(item), 4):
                on_token(item[i : i + 4])
        data = parse_and_validate(schema, item) if self._validate else json.loads(item)
        prompt_tokens = sum(self.count_tokens(m.content) for m in (*prefix, *history))
        completion = self.count_tokens(item)
        return StepResult(
            text=item,
            data=data,
            prompt_tokens=prompt_tokens,
            prompt_tokens_evaluated=prompt_tokens,
            completion_tokens=completion,
            timings=StepTimings(completion_tokens=completion),
            prefix_hash=messages_hash(prefix),
            prompt_hash=messages_hash([*prefix, *history]),
        )

    def count_tokens(self, text: str) -> int:
        """A deterministic estimate: about four characters per token."""
        return max(1, (len(text) + 3) // 4) if text else 0

    def close(self) -> None:
        """Mark the model closed (tests can assert the loop closed it)."""
        self.closed = True
