"""OpenAIChatModel: the ChatModel backend for an on-site OpenAI-compatible server.

Bigger sites run inference on their own server (llama-cpp-python's server, llama.cpp's
``llama-server``, vLLM). This backend sends each step to ``{base_url}/chat/completions``
with the fields that make that kind of server constrain decoding to the step schema
(``server_flavor.py``: set by ``model.server_flavor`` or detected by asking the server),
streams the answer to ``on_token``, and validates the result like every backend. It talks
only to the configured base URL, over plain ``http.client`` (no redirects followed; the
egress guard still applies: a server off loopback must be in the network allowlist).
Prefix reuse is asked for where the server offers it (llama-server's ``cache_prompt`` and
``id_slot``); ``timings`` from llama-server are used when present.
"""

from __future__ import annotations

import errno
import http.client
import json
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any, cast
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
from agent.llm.server_flavor import (
    FLAVOR_SETTINGS,
    Flavor,
    ServerFacts,
    constrain,
    detect_flavor,
)

_CHANGE_FLAVOR = (
    "set model.server_flavor to the server's kind (llama-cpp-python, llama-server, vllm) "
    "or to \"auto\" to ask the server; see docs/inference-servers.md"
)
#: Words of the servers' "prompt too long" refusals (llama-server, vLLM, OpenAI).
_OVERFLOW_WORDS = ("context length", "context size", "exceeds the available context",
                   "maximum context", "too long")
_START_SERVER = (
    "start the inference server (e.g. `plantagent models serve`), check "
    "model.openai_base_url, or set model.backend = \"llama_cpp\""
)


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
        flavor: str = "auto",
        slot: int | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"model.openai_base_url {base_url!r} is not an http(s) URL",
                fix="set it like http://10.0.0.5:8080/v1",
            )
        if flavor not in FLAVOR_SETTINGS:
            raise ConfigError(
                f"model.server_flavor {flavor!r} is not one of {', '.join(FLAVOR_SETTINGS)}",
                fix=_CHANGE_FLAVOR,
            )
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._path = parts.path.rstrip("/")
        self._base_url = base_url
        self._model = model
        self._timeout = timeout_s
        self._api_key = api_key
        self._flavor_setting = flavor
        self._slot = slot
        self._facts: ServerFacts | None = None
        self._facts_lock = threading.Lock()
        self._info = ModelInfo(model, sha256, context_tokens, "openai")

    @property
    def info(self) -> ModelInfo:
        """The served model's name; sha256 as listed in the manifest, if it is."""
        return self._info

    @property
    def base_url(self) -> str:
        """The one address this backend talks to."""
        return self._base_url

    def server_facts(self) -> ServerFacts:
        """The server's flavour: as configured, or asked of the server once (``auto``).

        A detected vLLM or OpenAI server that does not serve ``model.name`` is refused
        here (llama.cpp's servers answer any name with the model they loaded)."""
        with self._facts_lock:
            if self._facts is None:
                if self._flavor_setting == "auto":
                    facts = detect_flavor(
                        self._base_url, timeout_s=min(self._timeout, 10.0),
                        api_key=self._api_key,
                    )  # fmt: skip
                    strict = facts.flavor in ("vllm", "vllm-guided", "openai")
                    if strict and facts.models and self._model not in facts.models:
                        raise ConfigError(
                            f"the {facts.flavor} server at {self._base_url} does not serve "
                            f"{self._model!r} (it serves {', '.join(facts.models)})",
                            fix="set model.name to a model the server serves",
                        )
                    if facts.context_tokens and facts.context_tokens < self._info.context_tokens:
                        # Budget with the server's window: a longer prompt is refused.
                        self._info = replace(self._info, context_tokens=facts.context_tokens)
                    self._facts = facts
                else:
                    # Checked against FLAVOR_SETTINGS in __init__; "auto" is handled above.
                    self._facts = ServerFacts(cast(Flavor, self._flavor_setting), ())
            return self._facts

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
        facts = self.server_facts()
        room = self._info.context_tokens - sum(self.count_tokens(m.content) + 6 for m in prefix)
        max_tokens = max(32, min(max_tokens, room // 2))
        fitted = fit_history(history, self.count_tokens, room - max_tokens)
        messages = [*prefix, *fitted.history]
        body = constrain({
            "model": self._model,
            "messages": [_wire_message(m) for m in messages],
            "max_tokens": max_tokens,
            "temperature": 0,
            "stream": True,
            "stream_options": {"include_usage": True},
        }, facts.flavor, schema, slot=self._slot)  # fmt: skip
        pieces: list[str] = []
        first_at: float | None = None
        usage: dict[str, Any] = {}
        server_timings: dict[str, Any] = {}
        finish = "stop"
        for event in self._stream(body, facts):
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

    def _stream(self, body: dict[str, Any], facts: ServerFacts) -> Iterator[dict[str, Any]]:
        """POST the request and yield the JSON events of the server-sent event stream."""
        conn_cls = (
            http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        )
        conn = conn_cls(self._host, self._port, timeout=self._timeout)
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        try:
            conn.request("POST", f"{self._path}/chat/completions", json.dumps(body), headers)
            resp = conn.getresponse()
            if resp.status != 200:
                detail = resp.read(500).decode("utf-8", errors="replace")
                raise self._refusal(resp.status, detail, facts)
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
                event = json.loads(payload)
                if isinstance(event, dict) and event.get("error"):
                    raise ModelError(
                        f"the model server at {self._base_url} failed mid-answer: "
                        f"{str(event['error'])[:300]}",
                        fix="check the inference server's log; the question can be asked again",
                    )
                yield event
        except TimeoutError:
            raise ModelError(
                f"the model server at {self._base_url} did not answer within "
                f"{self._timeout:g} s (model.server_timeout_s)",
                fix="check the server's load, or raise model.server_timeout_s",
            ) from None
        except PermissionError as exc:
            # The egress guard's refusal (agent.vault.egress.EgressRefused, an EACCES
            # PermissionError; not imported: the vault package pulls in the database).
            if exc.errno == errno.EACCES and "egress refused" in str(exc):
                raise ModelError(
                    f"the egress guard refused the model server at {self._base_url}",
                    fix="add the inference server's network (CIDR) to [network] allowlist "
                    "in plantagent.toml, if it is on site",
                ) from None
            raise ModelError(
                f"could not talk to the model server at {self._base_url}: {exc}",
                fix=_START_SERVER,
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            raise ModelError(
                f"could not talk to the model server at {self._base_url}: {exc}",
                fix=_START_SERVER,
            ) from None
        except json.JSONDecodeError as exc:
            raise ModelError(
                f"the model server at {self._base_url} sent malformed JSON: {exc.msg}",
                fix="check model.openai_base_url points at the server's /v1 API, and the "
                "server's log",
            ) from None
        finally:
            conn.close()

    def _refusal(self, status: int, detail: str, facts: ServerFacts) -> ModelError:
        """The error for a non-200 answer, with the fix that fits it."""
        said = f"the model server at {self._base_url} answered HTTP {status}: {detail}"
        if status in (400, 413) and any(w in detail.lower() for w in _OVERFLOW_WORDS):
            return ModelError(
                f"{said} (the prompt does not fit the server's context window)",
                fix="set model.context_tokens to the server's context per slot, or give the "
                "server a larger context (llama-server -c, vLLM --max-model-len)",
            )
        if status in (400, 422):
            return ModelError(
                f"{said} (it refused the request to constrain output to the step schema "
                f"as a {facts.flavor} server)",
                fix=_CHANGE_FLAVOR,
            )
        if status in (401, 403):
            return ModelError(said, fix="give the server's API key, or open it to this host")
        if status == 404:
            return ModelError(
                said, fix="check model.openai_base_url ends with /v1 and model.name is served"
            )
        return ModelError(said, fix="check the inference server's log")
