"""UnloadedModel: the ChatModel of a session opened without a model.

`plantagent handover --no-model` (and a site whose model file is missing) still needs an
agent session for the audit log, the approvals and the plant connection, but must not
load a model it will not use. Every step refuses with a ModelError naming the fix, so
nothing can mistake this for a model that answered.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.errors import ModelError
from agent.llm.base import ChatMessage, JsonSchema, ModelInfo, StepResult, TokenCallback


class UnloadedModel:
    """No model: an identity for status lines, and a refusal for every step."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self._info = ModelInfo(name="none", sha256="", context_tokens=0, backend="none")

    @property
    def info(self) -> ModelInfo:
        """Name 'none', no hash."""
        return self._info

    def step(
        self,
        prefix: Sequence[ChatMessage],
        history: Sequence[ChatMessage],
        schema: JsonSchema,
        *,
        on_token: TokenCallback | None = None,
        max_tokens: int = 512,
    ) -> StepResult:
        """Always a ModelError: no model was loaded."""
        raise ModelError(f"no model is loaded ({self.reason})",
                         fix="run without --no-model, with the site's model in place "
                             "(`plantagent models list`)")

    def count_tokens(self, text: str) -> int:
        """An estimate (about four characters per token); nothing is tokenized."""
        return (len(text) + 3) // 4

    def close(self) -> None:
        """Nothing to free."""
