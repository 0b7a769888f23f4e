"""The interface between the agent loop and a language model backend.

The loop asks a :class:`ChatModel` for one *step* at a time: given the fixed ``prefix``
(system prompt and tool descriptions, rendered once and whose evaluated state the backend
keeps), the ``history`` of this question (the question, earlier steps, tool results) and
the JSON schema of one step, the backend returns JSON text that parses and validates
against that schema, or raises :class:`agent.errors.ModelOutputError`.

``step`` is blocking (inference is CPU-bound); call it off the event loop, e.g. through
:func:`astep`. ``on_token`` is then called on the worker thread, so a UI callback must hop
back with ``loop.call_soon_threadsafe``.

Backends: :class:`agent.llm.llama_runtime.LlamaChatModel` (in process),
:class:`agent.llm.openai_backend.OpenAIChatModel` (on-site server), and
:class:`agent.llm.scripted.ScriptedModel` (tests). Build one with
:func:`agent.llm.factory.build_chat_model`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant", "tool"]

#: Called with each piece of generated text as it is produced.
TokenCallback = Callable[[str], None]

#: A JSON schema (the subset pydantic emits), as a plain dict.
JsonSchema = dict[str, Any]


@dataclass(frozen=True)
class ChatMessage:
    """One message of the conversation.

    ``name`` is the tool name for ``role="tool"`` messages (rendered by templates that
    use it). ``pinned`` marks a message the context budget must never shorten (the
    question); the newest tool result is kept whole anyway.
    """

    role: Role
    content: str
    name: str | None = None
    pinned: bool = False

    def as_dict(self) -> dict[str, str]:
        """The OpenAI-style dict chat templates and servers expect."""
        out = {"role": self.role, "content": self.content}
        if self.name is not None:
            out["name"] = self.name
        return out


@dataclass(frozen=True)
class ModelInfo:
    """What a backend is running: recorded in the audit log with every step."""

    name: str
    sha256: str
    context_tokens: int
    backend: Literal["llama_cpp", "openai", "scripted", "none"]


@dataclass(frozen=True)
class StepTimings:
    """Where the time of one step went, in seconds."""

    prompt_eval_s: float = 0.0
    first_token_s: float = 0.0
    generation_s: float = 0.0
    total_s: float = 0.0
    completion_tokens: int = 0

    @property
    def tokens_per_s(self) -> float:
        """Generation speed (completion tokens over generation time)."""
        return self.completion_tokens / self.generation_s if self.generation_s > 0 else 0.0


@dataclass(frozen=True)
class StepResult:
    """One generated step.

    ``text`` is the JSON text as generated; ``data`` the parsed value (already validated
    against the schema). Token counts: ``prompt_tokens`` is the whole prompt,
    ``prompt_tokens_evaluated`` those actually run through the model (the rest came from
    the kept prefix state), ``completion_tokens`` the generated ones. ``prefix_hash``
    identifies the rendered prefix, ``prompt_hash`` the whole rendered prompt (for the
    audit log). ``trimmed_messages`` counts history messages the context budget shortened.
    """

    text: str
    data: Any
    prompt_tokens: int
    prompt_tokens_evaluated: int
    completion_tokens: int
    timings: StepTimings
    prefix_hash: str
    prompt_hash: str
    finish_reason: Literal["stop", "length"] = "stop"
    trimmed_messages: int = 0


@runtime_checkable
class ChatModel(Protocol):
    """A model the agent loop can drive, whatever runs it."""

    @property
    def info(self) -> ModelInfo:
        """Name, file hash and context size of the model."""
        ...

    def step(
        self,
        prefix: Sequence[ChatMessage],
        history: Sequence[ChatMessage],
        schema: JsonSchema,
        *,
        on_token: TokenCallback | None = None,
        max_tokens: int = 512,
    ) -> StepResult:
        """Generate one step: JSON text valid against ``schema``.

        Raises ModelOutputError when the output does not validate (e.g. cut off by
        ``max_tokens``) and ModelError when the model cannot run at all.
        """
        ...

    def count_tokens(self, text: str) -> int:
        """Number of tokens ``text`` takes with this model's tokenizer."""
        ...

    def close(self) -> None:
        """Free the model (memory, connections). Idempotent."""
        ...


@runtime_checkable
class PrefixWarming(Protocol):
    """A model that can evaluate a prompt prefix ahead of the first question (and keep its
    state, in memory and in the site's encrypted store), so that question starts warm."""

    def warm(self, prefix: Sequence[ChatMessage]) -> int:
        """Evaluate ``prefix`` unless its state is already held or stored; the number of
        tokens evaluated (0: it was warm)."""
        ...


class BlobStore(Protocol):
    """Where a backend keeps opaque state between processes (the prefix KV state).

    The vault provides an encrypted implementation; the state holds plant data (prompt
    text) so it must never be written in plaintext outside tests.
    """

    def put(self, name: str, data: bytes) -> None:
        """Store ``data`` under ``name``, replacing any previous value."""
        ...

    def get(self, name: str) -> bytes | None:
        """The bytes stored under ``name``, or None."""
        ...


def messages_hash(messages: Sequence[ChatMessage]) -> str:
    """A stable sha256 of messages (used when a backend has no rendered text)."""
    payload = json.dumps([m.as_dict() for m in messages], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass
class StepRequest:
    """A recorded call of :meth:`ChatModel.step` (ScriptedModel keeps these for tests)."""

    prefix: list[ChatMessage]
    history: list[ChatMessage]
    schema: JsonSchema
    max_tokens: int
    extra: dict[str, Any] = field(default_factory=dict)


async def astep(
    model: ChatModel,
    prefix: Sequence[ChatMessage],
    history: Sequence[ChatMessage],
    schema: JsonSchema,
    *,
    on_token: TokenCallback | None = None,
    max_tokens: int = 512,
) -> StepResult:
    """Run :meth:`ChatModel.step` in a worker thread so the event loop stays free."""
    return await asyncio.to_thread(
        model.step, prefix, history, schema, on_token=on_token, max_tokens=max_tokens
    )
