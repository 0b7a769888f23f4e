"""Which kind of OpenAI-compatible server serves the model, and how each one is asked to
constrain its output to the step schema.

The OpenAI API's own ``response_format`` of type ``json_schema`` is not understood alike:
llama-cpp-python's server refuses it (it takes ``json_object`` with a ``schema``),
llama.cpp's ``llama-server`` takes a top-level ``json_schema``, and vLLM takes
``structured_outputs`` (``guided_json`` before 0.10.2; removed in 0.12). Each flavour
also says how the server reuses an evaluated prompt prefix: ``llama-server`` keeps it per
slot when asked (``cache_prompt``, ``id_slot``); llama-cpp-python's server keeps the
longest common prefix of the previous request by itself; vLLM's prefix caching is on by
default.

:func:`detect_flavor` asks the configured server only (``GET /v1/models``, then
``/props`` of llama-server and ``/version`` of vLLM), never any other address.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from agent.errors import ModelError
from agent.llm.base import JsonSchema

Flavor = Literal["llama-cpp-python", "llama-server", "vllm", "vllm-guided", "openai"]
#: What ``model.server_flavor`` may say ("vllm-guided" is only ever detected).
FLAVOR_SETTINGS = ("auto", "llama-cpp-python", "llama-server", "vllm", "openai")
FLAVORS: tuple[Flavor, ...] = get_args(Flavor)

#: The first vLLM release that takes ``structured_outputs`` (``guided_json`` before).
_VLLM_STRUCTURED_OUTPUTS = (0, 10, 2)


def constrain(
    body: dict[str, Any], flavor: Flavor, schema: JsonSchema, *, slot: int | None = None
) -> dict[str, Any]:
    """``body`` with the fields that make a server of ``flavor`` constrain its output to
    ``schema`` and reuse the prompt prefix it already evaluated."""
    out = dict(body)
    if flavor == "llama-cpp-python":
        out["response_format"] = {"type": "json_object", "schema": schema}
    elif flavor == "llama-server":
        # The top-level field is older than llama-server's response_format support and
        # still accepted; the prompt cache and a fixed slot keep the prefix evaluated.
        out["json_schema"] = schema
        out["cache_prompt"] = True
        if slot is not None:
            out["id_slot"] = slot
    elif flavor == "vllm":
        out["structured_outputs"] = {"json": schema}
    elif flavor == "vllm-guided":
        out["guided_json"] = schema
    else:
        out["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "agent_step", "strict": True, "schema": schema},
        }
    return out


@dataclass(frozen=True)
class ServerFacts:
    """What detection learned: the flavour, the served model ids, the server's version."""

    flavor: Flavor
    models: tuple[str, ...]
    version: str = ""
    #: The server's context window, where it says (llama-server's /props, vLLM's
    #: max_model_len); the backend budgets with the smaller of it and its own.
    context_tokens: int | None = None


def _version_tuple(text: str) -> tuple[int, ...]:
    parts: list[int] = []
    for piece in text.split("+", 1)[0].split("."):
        digits = "".join(c for c in piece if c.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


class _Prober:
    """GETs on the configured server; a 404 or a non-JSON reply is "not offered"."""

    def __init__(self, base_url: str, timeout_s: float, api_key: str | None) -> None:
        parts = urlsplit(base_url)
        self.base_url = base_url
        self.scheme = parts.scheme
        self.host = parts.hostname or ""
        self.port = parts.port
        self.path = parts.path.rstrip("/")
        # /props and /version sit at the root, beside /v1.
        self.root = self.path[: -len("/v1")] if self.path.endswith("/v1") else self.path
        self.timeout = timeout_s
        self.api_key = api_key

    def get(self, path: str) -> Any | None:
        cls = (
            http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        )
        conn = cls(self.host, self.port, timeout=self.timeout)
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            raw = resp.read(1_000_000)
            if resp.status != 200:
                return None
            return json.loads(raw)
        except json.JSONDecodeError:
            return None
        except TimeoutError:
            raise ModelError(
                f"the model server at {self.base_url} did not answer GET {path} within "
                f"{self.timeout:g} s",
                fix="check the server is up and not overloaded, or raise "
                "model.server_timeout_s",
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            raise ModelError(
                f"could not talk to the model server at {self.base_url}: {exc}",
                fix="start the inference server (e.g. `plantagent models serve`), check "
                "model.openai_base_url, or set model.backend = \"llama_cpp\"",
            ) from None
        finally:
            conn.close()


def detect_flavor(
    base_url: str, *, timeout_s: float = 10.0, api_key: str | None = None
) -> ServerFacts:
    """Ask the server at ``base_url`` what it is (its own endpoints only)."""
    probe = _Prober(base_url, timeout_s, api_key)
    listing = probe.get(f"{probe.path}/models")
    entries = listing.get("data") if isinstance(listing, dict) else None
    entries = [e for e in entries or [] if isinstance(e, dict)]
    models = tuple(str(e.get("id", "")) for e in entries)
    owners = {str(e.get("owned_by", "")) for e in entries}
    if "vllm" in owners:
        windows = [e.get("max_model_len") for e in entries]
        window = min((w for w in windows if isinstance(w, int) and w > 0), default=None)
        return _vllm(probe, models, window=window)
    if "me" in owners:
        # llama-cpp-python's server lists its models as owned by "me".
        return ServerFacts("llama-cpp-python", models)
    props = probe.get(f"{probe.root}/props")
    if "llamacpp" in owners or (isinstance(props, dict)
                                and "default_generation_settings" in props):
        return ServerFacts("llama-server", models, context_tokens=_llama_server_window(props))
    version = probe.get(f"{probe.root}/version")
    if isinstance(version, dict) and "version" in version:
        return _vllm(probe, models, version)
    return ServerFacts("openai", models)


def _llama_server_window(props: Any) -> int | None:
    """The context of one slot (llama-server splits ``-c`` between its slots)."""
    settings = props.get("default_generation_settings") if isinstance(props, dict) else None
    n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
    return n_ctx if isinstance(n_ctx, int) and n_ctx > 0 else None


def _vllm(probe: _Prober, models: tuple[str, ...], version: Any = None, *,
          window: int | None = None) -> ServerFacts:
    if version is None:
        version = probe.get(f"{probe.root}/version")
    text = str(version.get("version", "")) if isinstance(version, dict) else ""
    if text and _version_tuple(text) < _VLLM_STRUCTURED_OUTPUTS:
        return ServerFacts("vllm-guided", models, text, window)
    return ServerFacts("vllm", models, text, window)
