"""Chat templates: rendering, the tool-support check, prefix stability."""

from __future__ import annotations

import pytest

pytest.importorskip("jinja2", reason="chat templates need the llm extra")

from agent.errors import ModelError
from agent.llm.base import ChatMessage
from agent.llm.chat_template import ChatTemplate, shipped_template, template_for

PLAIN_CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
CONVERSATION = [
    ChatMessage("system", "SYSTEM"),
    ChatMessage("user", "QUESTION"),
    ChatMessage("assistant", '{"action": "call_tool"}'),
    ChatMessage("tool", "RESULT", name="read_tags"),
]


def chatml_tools() -> ChatTemplate:
    return template_for("chatml-tools", {}, bos_token="", eos_token="<|im_end|>")


def test_shipped_chatml_tools_renders_tool_results_as_user_turns() -> None:
    text = chatml_tools().render(CONVERSATION, add_generation_prompt=True)
    assert text.startswith("<|im_start|>system\nSYSTEM<|im_end|>\n")
    assert "<|im_start|>user\n<tool_response>\nRESULT\n</tool_response><|im_end|>\n" in text
    assert text.endswith("<|im_start|>assistant\n")
    chatml_tools().check_tool_support("smollm")


def test_prefix_render_is_a_prefix_of_the_full_render() -> None:
    template = chatml_tools()
    prefix = template.render(CONVERSATION[:1], add_generation_prompt=False)
    assert template.render(CONVERSATION, add_generation_prompt=True).startswith(prefix)


def test_template_without_tool_support_is_refused() -> None:
    template = ChatTemplate(PLAIN_CHATML, bos_token="", eos_token="", origin="the GGUF metadata")
    with pytest.raises(ModelError, match="no tool support") as info:
        template.check_tool_support("plain-model")
    assert "chatml-tools" in str(info.value.fix)


def test_template_errors_become_model_errors() -> None:
    strict = ChatTemplate("{{ raise_exception('roles must alternate') }}", bos_token="",
                          eos_token="", origin="test")  # fmt: skip
    with pytest.raises(ModelError, match="roles must alternate"):
        strict.render(CONVERSATION, add_generation_prompt=True)
    with pytest.raises(ModelError, match="does not compile"):
        ChatTemplate("{% if %}", bos_token="", eos_token="", origin="test")
    with pytest.raises(ModelError, match="no chat template"):
        template_for("gguf", {}, bos_token="", eos_token="")
    with pytest.raises(ModelError, match="unknown chat_format"):
        shipped_template("nope")
