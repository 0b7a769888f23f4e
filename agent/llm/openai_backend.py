"""OpenAIChatModel: the ChatModel backend for an on-site OpenAI-compatible server.

Bigger sites run inference on their own GPU server (llama.cpp server, vLLM). This
backend sends each step to ``{base_url}/chat/completions`` with ``response_format`` of
type ``json_schema`` (the server constrains decoding), streams the answer to
``on_token``, and validates the result like every backend. It talks only to the
configured base URL, over plain ``http.client`` (the egress guard still applies: the
server's network must be allowlisted). Prefix reuse is the server's business (llama.cpp
server's prompt cache, vLLM's prefix caching); ``timings`` from llama.cpp server are used
when present.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from agent.errors import ConfigError, ModelError
from agent.llm.base import (
    ChatMessage,
    JsonSchema,
    ModelInfo,
    StepResult,
    StepTimings,
    TokenCallback,
    messages_hash,
)
from agent.llm.budget import fit_history
from agent.llm.schema_check import parse_and_validate


def _wire_message(message: ChatMessage) -> dict[str, str]:
    """The message as sent. Tool results go as user messages: the OpenAI API ties a
    ``tool`` message to a native tool call id (vLLM enforces it), and our steps are JSON
    actions, not native tool calls."""
    if message.role != "tool":
        return {"role": message.role, "content": message.content}
    label = f"Tool result ({message.name})" if message.name else "Tool result"
    return {"role": "user", "content": f"{label}:\n{message.content}"}


class OpenAIChatModel:
    """A model served by an OpenAI-compatible HTTP server on site."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        context_tokens: int = 4096,
        timeout_s: float = 120.0,
        sha256: str = "",
        api_key: str | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"model.openai_base_url {base_url!r} is not an http(s) URL",
                fix="set it like http://10.0.0.5:8080/v1",
            )
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._path = parts.path.rstrip("/")
        self._base_url = base_url
        self._model = model
        self._timeout = timeout_s
        self._api_key = api_key
        self._info = ModelInfo(model, sha256, context_tokens, "openai")

    @property
    def info(self) -> ModelInfo:
        """The served model's name; sha256 as listed in the manifest, if it is."""
        return self._info

    def count_tokens(self, text: str) -> int:
        """An estimate (three characters per token, on the safe side): the server's own
        tokenizer is not reachable through the OpenAI API."""
        return (len(text) + 2) // 3

    def close(self) -> None:
        """Nothing to free: each step opens its own connection."""

    def step(
        self,
        prefix: Sequence[ChatMessage],
        history: Sequence[ChatMessage],
        schema: JsonSchema,
        *,
        on_token: TokenCallback | None = None,
        max_tokens: int = 512,
    ) -> StepResult:
        """One step through ``/chat/completions`` (see :meth:`ChatModel.step`)."""
        started = time.perf_counter()
        room = self._info.context_tokens - sum(self.count_tokens(m.content) + 6 for m in prefix)
        max_tokens = max(32, min(max_tokens, room // 2))
        fitted = fit_history(history, self.count_tokens, room - max_tokens)
        messages = [*prefix, *fitted.history]
        body = {
            "model": self._model,
            "messages": [_wire_message(m) for m in messages],
            "max_tokens": max_tokens,
            "temperature": 0,
            "stream": True,
            "stream_options": {"include_usage": True},
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "agent_step", "strict": True, "schema": schema},
            },
        }
        pieces: list[str] = []
        first_at: float | None = None
        usage: dict[str, Any] = {}
        server_timings: dict[str, Any] = {}
        finish = "stop"
        for event in self._stream(body):
            usage = event.get("usage") or usage
            server_timings = event.get("timings") or server_timings
            for choice in event.get("choices") or []:
                piece = (choice.get("delta") or {}).get("content") or ""
                if piece:
                    first_at = first_at or time.perf_counter()
                    pieces.append(piece)
                    if on_token is not None:
                        on_token(piece)
                if choice.get("finish_reason") == "length":
                    finish = "length"
        ended = time.perf_counter()
        text = "".join(pieces)
        data = parse_and_validate(schema, text)
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion = int(usage.get("completion_tokens") or len(pieces))
        evaluated = int(server_timings.get("prompt_n", prompt_tokens))
        timings = StepTimings(
            prompt_eval_s=float(server_timings.get("prompt_ms", 0.0)) / 1000.0,
            first_token_s=(first_at or ended) - started,
            generation_s=ended - (first_at or ended),
            total_s=ended - started,
            completion_tokens=completion,
        )
        return StepResult(
            text=text, data=data, prompt_tokens=prompt_tokens, prompt_tokens_evaluated=evaluated,
            completion_tokens=completion, timings=timings, prefix_hash=messages_hash(prefix),
            prompt_hash=messages_hash(messages), finish_reason="length" if finish == "length"
            else "stop", trimmed_messages=fitted.trimmed,
        )  # fmt: skip

    def _stream(self, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """POST the request and yield the JSON events of the server-sent event stream."""
        conn_cls = (
            http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        )
        conn = conn_cls(self._host, self._port, timeout=self._timeout)
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        fix = "start the model server, or set model.backend = \"llama_cpp\""
        try:
            conn.request("POST", f"{self._path}/chat/completions", json.dumps(body), headers)
            resp = conn.getresponse()
            if resp.status != 200:
                detail = resp.read(500).decode("utf-8", errors="replace")
                raise ModelError(
                    f"the model server at {self._base_url} answered HTTP {resp.status}: {detail}",
                    fix="check model.name matches a model the server serves, and that it "
                    "supports response_format json_schema",
                )
            if "text/event-stream" not in (resp.getheader("Content-Type") or ""):
                # A server that ignores "stream" answers with one JSON document.
                whole = json.loads(resp.read())
                for choice in whole.get("choices") or []:
                    choice["delta"] = choice.get("message") or {}
                yield whole
                return
            for raw in resp:
                line = raw.decode("utf-8", errors="replace").strip()
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                yield json.loads(payload)
        except (OSError, http.client.HTTPException) as exc:
            raise ModelError(
                f"could not talk to the model server at {self._base_url}: {exc}", fix=fix
            ) from None
        except json.JSONDecodeError as exc:
            raise ModelError(
                f"the model server at {self._base_url} sent malformed JSON: {exc.msg}", fix=fix
            ) from None
        finally:
            conn.close()
