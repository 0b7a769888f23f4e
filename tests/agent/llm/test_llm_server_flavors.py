"""Each kind of inference server gets the request shape it understands, found by asking it;
a server that refuses, stalls or garbles is a ModelError that names the fix.

Protocol tests against small stand-in servers on loopback (inference_servers.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agent.errors import ConfigError, ModelError, ModelOutputError
from agent.llm.base import ChatMessage
from agent.llm.factory import build_chat_model
from agent.llm.openai_backend import OpenAIChatModel
from agent.llm.server_flavor import constrain, detect_flavor
from agent.settings import load_settings

from .inference_servers import emulated_server
from .llm_helpers import step_schema

SCHEMA = step_schema(["P-101.FlowRate"], ["E1"])
PREFIX = [ChatMessage("system", "You are the plant agent.")]
QUESTION = [ChatMessage("user", "Flow of P-101?", pinned=True)]


@pytest.mark.parametrize(
    ("kind", "version", "flavor"),
    [("llama-cpp-python", "", "llama-cpp-python"), ("llama-server", "", "llama-server"),
     ("old-llama-server", "", "llama-server"), ("vllm", "0.11.0", "vllm"),
     ("vllm", "0.8.5", "vllm-guided"), ("openai", "", "openai")],
)  # fmt: skip
def test_detection_asks_the_server_what_it_is(kind: str, version: str, flavor: str) -> None:
    with emulated_server(kind, version=version or "0.11.0") as server:
        facts = detect_flavor(server.url)
    assert facts.flavor == flavor and facts.models == ("qwen",)
    assert server.gets[0] == "/v1/models"
    assert set(server.gets) <= {"/v1/models", "/props", "/version"}


def _step(url: str, flavor: str = "auto", **kwargs: object) -> tuple[OpenAIChatModel, dict]:
    model = OpenAIChatModel(url, "qwen", flavor=flavor, **kwargs)  # type: ignore[arg-type]
    result = model.step(PREFIX, QUESTION, SCHEMA, max_tokens=64)
    assert result.data["citations"] == ["E1"]
    return model, result.__dict__


def test_llama_cpp_python_gets_json_object_with_the_schema() -> None:
    with emulated_server("llama-cpp-python") as server:
        model, _ = _step(server.url)
    sent = server.requests[0]
    assert model.server_facts().flavor == "llama-cpp-python"
    assert sent["response_format"] == {"type": "json_object", "schema": SCHEMA}
    assert "json_schema" not in sent and "guided_json" not in sent


def test_llama_server_gets_json_schema_and_keeps_its_prompt_cache() -> None:
    with emulated_server("llama-server") as server:
        _, result = _step(server.url, slot=1)
    sent = server.requests[0]
    assert sent["json_schema"] == SCHEMA and "response_format" not in sent
    assert sent["cache_prompt"] is True and sent["id_slot"] == 1
    # The server's own count of evaluated prompt tokens: the rest came from its cache.
    assert result["prompt_tokens_evaluated"] == 3 and result["prompt_tokens"] == 40


@pytest.mark.parametrize(("version", "field"),
                         [("0.11.0", "structured_outputs"), ("0.8.5", "guided_json")])
def test_vllm_gets_its_structured_output_field(version: str, field: str) -> None:
    with emulated_server("vllm", version=version) as server:
        _step(server.url)
    sent = server.requests[0]
    got = sent[field]
    assert (got["json"] if field == "structured_outputs" else got) == SCHEMA
    assert "response_format" not in sent and "cache_prompt" not in sent


def test_configured_flavor_skips_detection() -> None:
    with emulated_server("llama-server") as server:
        _step(server.url, flavor="llama-server")
    assert server.gets == [] and server.requests[0]["json_schema"] == SCHEMA


def test_request_shapes_carry_the_same_schema() -> None:
    base = {"model": "m", "messages": []}
    for flavor in ("llama-cpp-python", "llama-server", "vllm", "vllm-guided", "openai"):
        body = constrain(base, flavor, SCHEMA)
        assert json.dumps(SCHEMA) in json.dumps(body) and body["model"] == "m"
    assert base == {"model": "m", "messages": []}


def test_a_server_that_cannot_constrain_names_the_setting() -> None:
    # The bug of issue 18: the OpenAI shape sent to llama-cpp-python's server.
    with emulated_server("llama-cpp-python") as server:
        model = OpenAIChatModel(server.url, "qwen", flavor="openai")
        with pytest.raises(ModelError, match="HTTP 422") as info:
            model.step(PREFIX, QUESTION, SCHEMA)
    assert "refused the request to constrain output" in str(info.value)
    assert "model.server_flavor" in str(info.value.fix)


def test_unserved_model_on_vllm_is_a_config_error() -> None:
    with (emulated_server("vllm", served=("llama-3-8b",)) as server,
          pytest.raises(ConfigError, match="does not serve 'qwen'") as info):
        OpenAIChatModel(server.url, "qwen").step(PREFIX, QUESTION, SCHEMA)
    assert "model.name" in str(info.value.fix) and server.requests == []


@pytest.mark.parametrize("kind", ["llama-server", "vllm"])
def test_the_servers_smaller_window_is_the_budget(kind: str) -> None:
    with emulated_server(kind, n_ctx=2048) as server:
        model = OpenAIChatModel(server.url, "qwen", context_tokens=4096)
        history = [*QUESTION, ChatMessage("assistant", "{}"),
                   ChatMessage("tool", "x" * 20000, name="read_tags")]
        result = model.step(PREFIX, history, SCHEMA, max_tokens=256)
    assert model.info.context_tokens == 2048 and model.server_facts().context_tokens == 2048
    assert result.trimmed_messages > 0
    assert sum(len(m["content"]) for m in server.requests[0]["messages"]) < 2048 * 3


def test_a_prompt_too_long_for_the_server_names_the_window() -> None:
    refusal = (400, "the request exceeds the available context size, try increasing it")
    with (emulated_server("llama-server", refuse_with=refusal) as server,
          pytest.raises(ModelError, match="does not fit the server's context") as info):
        OpenAIChatModel(server.url, "qwen").step(PREFIX, QUESTION, SCHEMA)
    assert "model.context_tokens" in str(info.value.fix)


def test_slow_server_times_out_with_the_setting_named() -> None:
    with emulated_server("llama-server", delay_s=1.0) as server:
        model = OpenAIChatModel(server.url, "qwen", flavor="llama-server", timeout_s=0.2)
        with pytest.raises(ModelError, match=r"did not answer within 0\.2 s") as info:
            model.step(PREFIX, QUESTION, SCHEMA)
    assert "model.server_timeout_s" in str(info.value.fix)


def test_garbled_stream_and_mid_answer_errors_are_model_errors() -> None:
    with (emulated_server("llama-server", raw_events=["{not json"]) as server,
          pytest.raises(ModelError, match="malformed JSON")):
        OpenAIChatModel(server.url, "qwen").step(PREFIX, QUESTION, SCHEMA)
    failed = [json.dumps({"error": {"message": "slot unavailable"}})]
    with (emulated_server("llama-server", raw_events=failed) as server,
          pytest.raises(ModelError, match=r"failed mid-answer: .*slot unavailable")):
        OpenAIChatModel(server.url, "qwen").step(PREFIX, QUESTION, SCHEMA)


def test_unconstrained_prose_is_refused_by_validation() -> None:
    # A server that ignores the constraint: the output is still checked (the loop retries).
    with (emulated_server("openai", answer="The flow is 12 m3/h.") as server,
          pytest.raises(ModelOutputError)):
        OpenAIChatModel(server.url, "qwen").step(PREFIX, QUESTION, SCHEMA)


def test_settings_reach_the_backend(tmp_path: Path) -> None:
    with emulated_server("llama-server") as server:
        settings = load_settings(home=tmp_path, model={
            "backend": "openai", "openai_base_url": server.url, "name": "qwen",
            "server_flavor": "llama-server", "server_slot": 0, "server_timeout_s": 30})
        model = build_chat_model(settings, None)
        assert model.step(PREFIX, QUESTION, SCHEMA).data["action"] == "final_answer"
    assert server.requests[0]["id_slot"] == 0 and server.gets == []
    with pytest.raises(ConfigError, match="server_flavor"):
        OpenAIChatModel(server.url, "qwen", flavor="tgi")


def test_egress_guard_refusal_names_the_allowlist() -> None:
    # Its own interpreter: the guard is a process-wide audit hook. Loopback only: the
    # guard allows 127.0.0.1 alone, the server listens on 127.0.0.2.
    script = textwrap.dedent(
        """
        import json, socket
        from agent.errors import ModelError
        from agent.llm.base import ChatMessage
        from agent.llm.openai_backend import OpenAIChatModel
        from agent.vault.egress import install_egress_guard
        srv = socket.socket(); srv.bind(("127.0.0.2", 0)); srv.listen(1)
        install_egress_guard(["127.0.0.1/32"], allow_loopback=False)
        url = f"http://127.0.0.2:{srv.getsockname()[1]}/v1"
        model = OpenAIChatModel(url, "q", flavor="llama-server")
        try:
            model.step([ChatMessage("system", "s")], [ChatMessage("user", "q")], {})
        except ModelError as exc:
            print(json.dumps([str(exc), exc.fix]))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    message, fix = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "egress guard refused" in message and "allowlist" in fix
