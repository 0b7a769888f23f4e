"""The launcher of llama-cpp-python's server: a server that cannot start is a ModelError
naming its log, not a hang (the real serving is tests/e2e/test_e2e_inference_server.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import ModelError
from agent.llm.server_launcher import ServerProcess, server_args


def test_a_server_that_cannot_load_its_model_fails_fast(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="needs the llm extra")
    pytest.importorskip("fastapi", reason="needs the server extra")
    bogus = tmp_path / "not-a-model.gguf"
    bogus.write_bytes(b"GGUF but not really")
    server = ServerProcess(bogus, "bogus", log=tmp_path / "server.log")
    with pytest.raises(ModelError, match=r"exited with code [1-9][0-9]* before it was ready"):
        server.start(ready_timeout_s=60)
    assert (tmp_path / "server.log").read_bytes()  # what the server said is kept


def test_arguments_name_the_model_and_bind_loopback_by_default(tmp_path: Path) -> None:
    args = server_args(tmp_path / "m.gguf", alias="m", port=9, threads=1)
    pairs = dict(zip(args[::2], args[1::2], strict=True))
    assert pairs["--host"] == "127.0.0.1" and pairs["--model_alias"] == "m"
    assert pairs["--n_threads"] == pairs["--n_threads_batch"] == "1"


def test_a_llama_server_path_that_is_no_program_is_a_clear_error(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    server = ServerProcess(model, "m", llama_server=tmp_path / "no-such-llama-server")
    with pytest.raises(ModelError, match="not an executable llama-server") as raised:
        server.start(ready_timeout_s=5)
    assert raised.value.fix and "docs/inference-servers.md" in raised.value.fix
