"""Rendering messages with a model's own chat template (Jinja2, as transformers does).

The template comes from the GGUF metadata (``tokenizer.chat_template``) when the manifest
says ``chat_format = "gguf"``, else from a file shipped in ``agent/llm/templates/``. It is
rendered in a sandbox, like llama_cpp's Jinja2ChatFormatter. A chat model must render
tool results and tool lists: :meth:`ChatTemplate.check_tool_support` refuses one that
cannot, so a model is never run with tool results silently dropped.

Tool descriptions travel in the prefix (system message) written by the loop, and the
model answers with a JSON step constrained by a grammar, so ``tools`` is not passed to
the template when rendering real prompts (Qwen's template would then ask for its own
``<tool_call>`` syntax).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from importlib import resources
from typing import Any

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from agent.errors import ModelError
from agent.llm.base import ChatMessage

_PROBE_TOOL = "plantagent_probe_tool_4f1c"
_PROBE_RESULT = "plantagent-probe-result-93ad"


def _tojson(
    value: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    return json.dumps(
        value, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
        sort_keys=sort_keys,
    )  # fmt: skip


def _raise(message: str) -> None:
    raise jinja2.TemplateError(message)


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


class ChatTemplate:
    """A compiled chat template and the special tokens it refers to."""

    def __init__(self, source: str, *, bos_token: str, eos_token: str, origin: str) -> None:
        env = ImmutableSandboxedEnvironment(
            loader=jinja2.BaseLoader(),
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=[jinja2.ext.loopcontrols],
        )
        env.filters["tojson"] = _tojson
        env.globals["raise_exception"] = _raise
        env.globals["strftime_now"] = _strftime_now
        self.origin = origin
        self.bos_token = bos_token
        self.eos_token = eos_token
        try:
            self._template = env.from_string(source)
        except jinja2.TemplateError as exc:
            raise ModelError(
                f"the chat template from {origin} does not compile: {exc}",
                fix="set chat_format to a shipped template in the model manifest",
            ) from None

    def render(
        self,
        messages: Sequence[ChatMessage],
        *,
        add_generation_prompt: bool,
        tools: list[dict[str, Any]] | None = None,
    ) -> str:
        """The prompt text of ``messages``; ModelError if the template rejects them."""
        try:
            return self._template.render(
                messages=[m.as_dict() for m in messages],
                add_generation_prompt=add_generation_prompt,
                tools=tools,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
            )
        except jinja2.TemplateError as exc:
            raise ModelError(
                f"the chat template from {self.origin} cannot render these messages: {exc}",
                fix="check the message roles the loop sends (system first, then user, "
                "assistant and tool)",
            ) from None

    def check_tool_support(self, model_name: str) -> None:
        """Refuse a template that drops tool lists or tool results (ModelError)."""
        probe = [
            ChatMessage("system", "probe"),
            ChatMessage("user", "probe question"),
            ChatMessage("assistant", '{"action": "call_tool"}'),
            ChatMessage("tool", _PROBE_RESULT, name=_PROBE_TOOL),
        ]
        tools = [{"type": "function", "function": {"name": _PROBE_TOOL, "parameters": {}}}]
        try:
            text = self.render(probe, add_generation_prompt=True, tools=tools)
        except ModelError:
            text = ""
        if _PROBE_TOOL not in text or _PROBE_RESULT not in text:
            raise ModelError(
                f"the chat template of model {model_name!r} ({self.origin}) has no tool "
                "support: it does not render tool lists and tool results",
                fix="use a chat model whose template supports tools (the default model), or "
                "set chat_format = \"chatml-tools\" for it in the site's models.toml if it "
                "was trained on ChatML",
            )


def shipped_template(name: str) -> str:
    """The source of a template shipped in agent/llm/templates/ (``NAME.jinja``)."""
    file_name = name.replace("-", "_") + ".jinja"
    ref = resources.files("agent.llm.templates").joinpath(file_name)
    if not ref.is_file():
        raise ModelError(
            f"unknown chat_format {name!r}: no shipped template {file_name}",
            fix="use chat_format = \"gguf\" (the file's own template) or \"chatml-tools\"",
        )
    return ref.read_text(encoding="utf-8")


def template_for(
    chat_format: str, metadata: dict[str, str], *, bos_token: str, eos_token: str
) -> ChatTemplate:
    """The template a manifest ``chat_format`` names, for a model with ``metadata``."""
    if chat_format == "gguf":
        source = metadata.get("tokenizer.chat_template")
        if not source:
            raise ModelError(
                "the model file has no chat template in its metadata",
                fix="set chat_format to a shipped template (e.g. \"chatml-tools\") in the "
                "model's manifest entry",
            )
        return ChatTemplate(source, bos_token=bos_token, eos_token=eos_token,
                            origin="the GGUF metadata")  # fmt: skip
    return ChatTemplate(shipped_template(chat_format), bos_token=bos_token,
                        eos_token=eos_token, origin=f"templates/{chat_format}")  # fmt: skip
