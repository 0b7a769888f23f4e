"""A ChatModel wrapper that keeps the timings of every step it runs, so a qualification
can report generation speed apart from prompt evaluation (the loop's own timings add
them together)."""

from __future__ import annotations

from collections.abc import Sequence

from agent.llm.base import (
    ChatMessage,
    ChatModel,
    JsonSchema,
    ModelInfo,
    StepResult,
    StepTimings,
    TokenCallback,
)


class StepTimer:
    """Delegates to ``model``; ``timings`` lists each successful step's timings."""

    def __init__(self, model: ChatModel) -> None:
        self.model = model
        self.timings: list[StepTimings] = []

    @property
    def info(self) -> ModelInfo:
        """The wrapped model's identity."""
        return self.model.info

    def step(self, prefix: Sequence[ChatMessage], history: Sequence[ChatMessage],
             schema: JsonSchema, *, on_token: TokenCallback | None = None,
             max_tokens: int = 512) -> StepResult:
        """Run the step on the wrapped model and keep its timings."""
        result = self.model.step(prefix, history, schema, on_token=on_token,
                                 max_tokens=max_tokens)
        self.timings.append(result.timings)
        return result

    def count_tokens(self, text: str) -> int:
        """The wrapped model's token count."""
        return self.model.count_tokens(text)

    def close(self) -> None:
        """Close the wrapped model."""
        self.model.close()

    def generation_rate(self, since: int = 0) -> float:
        """Completion tokens per second of generation (prompt evaluation excluded) over
        the steps from index ``since`` on; 0 when nothing was generated."""
        steps = [t for t in self.timings[since:] if t.generation_s > 0]
        seconds = sum(t.generation_s for t in steps)
        return sum(t.completion_tokens for t in steps) / seconds if seconds > 0 else 0.0
