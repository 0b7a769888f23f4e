"""Small stand-ins of real inference servers on loopback (stdlib http.server in a thread).

Each speaks the protocol of one kind of server as far as the backend uses it: the
endpoints detection reads (``/v1/models`` with the server's own ``owned_by``, llama-server's
``/props``, vLLM's ``/version``) and the chat completion request, which it checks the way
that server does (llama-cpp-python refuses ``response_format`` of type ``json_schema``
with HTTP 422, ...). They answer canned steps; these are protocol tests, the real-server
test is ``test_llm_real_server.py``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

STEP = '{"action": "final_answer", "answer": "12 m3/h [E1]", "citations": ["E1"]}'


@dataclass
class Emulated:
    """One emulated server: what it is, what it answers, what it was asked."""

    kind: str  # "llama-cpp-python", "llama-server", "vllm", "openai", "old-llama-server"
    url: str = ""
    version: str = "0.11.0"
    served: tuple[str, ...] = ("qwen",)
    answer: str = STEP
    delay_s: float = 0.0
    n_ctx: int = 4096
    #: (status, message) to answer every completion with, as the server's error.
    refuse_with: tuple[int, str] | None = None
    raw_events: list[str] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    gets: list[str] = field(default_factory=list)

    def refusal(self, body: dict[str, Any]) -> tuple[int, str] | None:
        """The status and error the real server gives a request it refuses."""
        if self.refuse_with is not None:
            return self.refuse_with
        fmt = body.get("response_format") or {}
        if self.kind == "llama-cpp-python" and fmt and fmt.get("type") != "json_object":
            # pydantic's literal error, as the real server's FastAPI answers it.
            return 422, "Input should be 'text' or 'json_object'"
        if self.kind == "old-llama-server" and fmt.get("type") == "json_schema":
            return 400, "response_format type json_schema is not supported"
        return None


def _models(state: Emulated) -> dict[str, Any]:
    owner = {"llama-cpp-python": "me", "llama-server": "llamacpp", "vllm": "vllm",
             "openai": "openai", "old-llama-server": ""}[state.kind]  # fmt: skip
    extra = {"max_model_len": state.n_ctx} if state.kind == "vllm" else {}
    return {"object": "list", "data": [
        {"id": m, "object": "model", "owned_by": owner, **extra} for m in state.served]}


@contextmanager
def emulated_server(kind: str, **kwargs: Any) -> Iterator[Emulated]:
    """A server of ``kind`` on a free loopback port, for the ``with`` block."""
    state = Emulated(kind, **kwargs)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _json(self, status: int, doc: Any) -> None:
            data = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            state.gets.append(self.path)
            if self.path == "/v1/models":
                self._json(200, _models(state))
            elif self.path == "/props" and state.kind in ("llama-server", "old-llama-server"):
                self._json(200, {"default_generation_settings": {"n_ctx": state.n_ctx},
                                 "total_slots": 2})  # fmt: skip
            elif self.path == "/version" and state.kind == "vllm":
                self._json(200, {"version": state.version})
            else:
                self._json(404, {"detail": "Not Found"})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(body)
            refused = state.refusal(body)
            if refused is not None:
                self._json(refused[0], {"error": {"message": refused[1]}})
                return
            if state.delay_s:
                time.sleep(state.delay_s)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            events = state.raw_events
            if events is None:
                text = state.answer
                events = [json.dumps({"choices": [{"delta": {"content": text[i:i + 9]},
                                                   "finish_reason": None}]})
                          for i in range(0, len(text), 9)]  # fmt: skip
                last: dict[str, Any] = {"choices": [{"delta": {}, "finish_reason": "stop"}],
                                        "usage": {"prompt_tokens": 40, "completion_tokens": 8}}
                if state.kind == "llama-server":
                    last["timings"] = {"prompt_n": 3, "prompt_ms": 4.0, "cache_n": 37}
                events.append(json.dumps(last))
            try:
                for event in events:
                    self.wfile.write(f"data: {event}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout test)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
