"""The OpenAI-compatible backend against a small real HTTP server on loopback."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from agent.errors import ConfigError, ModelError, ModelOutputError
from agent.llm.base import ChatMessage, ChatModel
from agent.llm.factory import build_chat_model
from agent.llm.openai_backend import OpenAIChatModel
from agent.settings import load_settings

from .llm_helpers import DEFAULT_MODEL, step_schema

SCHEMA = step_schema(["P-101.FlowRate"], ["E1"])
PREFIX = [ChatMessage("system", "You are the plant agent.")]
QUESTION = [ChatMessage("user", "Flow of P-101?", pinned=True)]
STEP = '{"action": "final_answer", "answer": "12 m3/h [E1]", "citations": ["E1"]}'


@dataclass
class FakeServer:
    """What the fake server answers next, and what it was asked."""

    url: str
    answer: str = STEP
    status: int = 200
    stream: bool = True
    requests: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    state = FakeServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(body)
            state.paths.append(self.path)
            if state.status != 200:
                self.send_response(state.status)
                self.end_headers()
                self.wfile.write(b'{"error": "model not found"}')
                return
            usage = {"prompt_tokens": 42, "completion_tokens": 9}
            if not state.stream:
                doc = {"choices": [{"message": {"content": state.answer},
                                    "finish_reason": "stop"}], "usage": usage}  # fmt: skip
                data = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            chunks = [state.answer[i : i + 7] for i in range(0, len(state.answer), 7)]
            for chunk in chunks:
                event = {"choices": [{"delta": {"content": chunk}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            last = {"choices": [{"delta": {}, "finish_reason": "stop"}], "usage": usage,
                    "timings": {"prompt_n": 5, "prompt_ms": 12.5}}  # fmt: skip
            self.wfile.write(f"data: {json.dumps(last)}\n\ndata: [DONE]\n\n".encode())

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def test_streams_a_schema_constrained_step(fake_server: FakeServer) -> None:
    model = OpenAIChatModel(fake_server.url, "qwen", context_tokens=4096)
    assert isinstance(model, ChatModel)
    pieces: list[str] = []
    result = model.step(PREFIX, QUESTION, SCHEMA, on_token=pieces.append, max_tokens=100)
    assert result.data["citations"] == ["E1"] and "".join(pieces) == STEP and len(pieces) > 3
    assert (result.prompt_tokens, result.completion_tokens) == (42, 9)
    assert result.prompt_tokens_evaluated == 5
    assert result.timings.prompt_eval_s == pytest.approx(0.0125)
    sent = fake_server.requests[0]
    assert fake_server.paths == ["/v1/chat/completions"]
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["schema"] == SCHEMA
    assert sent["messages"][0] == {"role": "system", "content": "You are the plant agent."}
    assert sent["max_tokens"] == 100 and sent["temperature"] == 0 and sent["model"] == "qwen"


def test_non_streaming_server_is_understood(fake_server: FakeServer) -> None:
    fake_server.stream = False
    result = OpenAIChatModel(fake_server.url, "qwen").step(PREFIX, QUESTION, SCHEMA)
    assert result.data["answer"] == "12 m3/h [E1]"


def test_invalid_output_is_refused(fake_server: FakeServer) -> None:
    fake_server.answer = '{"action": "final_answer", "answer": "x", "citations": ["E7"]}'
    with pytest.raises(ModelOutputError, match="does not match"):
        OpenAIChatModel(fake_server.url, "qwen").step(PREFIX, QUESTION, SCHEMA)


def test_http_error_names_the_fix(fake_server: FakeServer) -> None:
    fake_server.status = 404
    with pytest.raises(ModelError, match="HTTP 404") as info:
        OpenAIChatModel(fake_server.url, "nope").step(PREFIX, QUESTION, SCHEMA)
    assert "model.name" in str(info.value.fix)


def test_unreachable_server_is_a_model_error() -> None:
    with socket.socket() as sock:  # a loopback port with nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ModelError, match="could not talk to the model server") as info:
        OpenAIChatModel(f"http://127.0.0.1:{port}/v1", "q").step(PREFIX, QUESTION, SCHEMA)
    assert "llama_cpp" in str(info.value.fix)


def test_long_history_is_fitted_before_sending(fake_server: FakeServer) -> None:
    history = [*QUESTION, ChatMessage("assistant", "{}"),
               ChatMessage("tool", "x" * 20000, name="read_tags"),
               ChatMessage("assistant", "{}"), ChatMessage("tool", "y" * 20000, name="alarms")]
    result = OpenAIChatModel(fake_server.url, "q", context_tokens=2048).step(
        PREFIX, history, SCHEMA, max_tokens=256
    )
    sent = fake_server.requests[0]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert sent[5]["content"].startswith("Tool result (alarms):\n")
    assert result.trimmed_messages > 0
    assert sum(len(m["content"]) for m in sent) < 2048 * 3


def test_factory_builds_the_configured_backend(fake_server: FakeServer, tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path, model={"backend": "openai",
                                                   "openai_base_url": fake_server.url})
    model = build_chat_model(settings, None)
    assert isinstance(model, OpenAIChatModel)
    assert model.info.name == DEFAULT_MODEL and len(model.info.sha256) == 64
    assert model.step(PREFIX, QUESTION, SCHEMA).data["action"] == "final_answer"
    with pytest.raises(ConfigError, match="openai_base_url"):
        build_chat_model(load_settings(home=tmp_path, model={"backend": "openai"}), None)
    with pytest.raises(ConfigError, match="not an http"):
        OpenAIChatModel("ftp://127.0.0.1/v1", "q")


def test_factory_refuses_a_missing_local_model(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path, model={"directory": str(tmp_path / "empty")})
    with pytest.raises(ModelError, match="does not exist") as info:
        build_chat_model(settings, None)
    assert f"plantagent models fetch {DEFAULT_MODEL}" in str(info.value.fix)
    with pytest.raises(ModelError, match="no model named"):
        build_chat_model(load_settings(home=tmp_path, model={"name": "nope"}), None)
