"""Running llama-cpp-python's OpenAI-compatible server on a site's model file.

``python -m agent.llm.server_launcher [--extra-buffers] ARGS...`` runs
``python -m llama_cpp.server ARGS...`` with llama.cpp's extra CPU buffer types off, as
every model load in plantagent is (``llama_loader.py``: the AMX matmul segfaults on a
multi-token batch on CPUs that advertise AMX). The stock ``llama_cpp.server`` cannot turn
them off. ``plantagent models serve`` builds the arguments from the site's settings
(:func:`server_args`); :class:`ServerProcess` runs it as a child process and waits until
it answers (the real-server tests use it).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from agent.errors import ModelError

#: The Python module ``python -m`` runs.
MODULE = "agent.llm.server_launcher"


def server_args(
    model_path: Path,
    *,
    alias: str,
    host: str = "127.0.0.1",
    port: int = 8080,
    threads: int = 2,
    context_tokens: int = 4096,
) -> list[str]:
    """The arguments of ``llama_cpp.server`` for one model file, served as ``alias``."""
    return [
        "--model", str(model_path), "--model_alias", alias, "--host", host, "--port", str(port),
        "--n_ctx", str(context_tokens), "--n_threads", str(threads),
        "--n_threads_batch", str(threads),
    ]  # fmt: skip


def llama_server_args(
    model_path: Path,
    *,
    alias: str,
    host: str = "127.0.0.1",
    port: int = 8080,
    threads: int = 2,
    context_tokens: int = 4096,
) -> list[str]:
    """The arguments of llama.cpp's own ``llama-server`` for the same model file: one slot
    (the prompt prefix stays evaluated in it), no web UI, and the extra CPU buffer types
    off (``--no-repack``), as every model load in plantagent is."""
    return [
        "-m", str(model_path), "--alias", alias, "--host", host, "--port", str(port),
        "-c", str(context_tokens), "-t", str(threads), "-tb", str(threads), "-np", "1",
        "--no-repack", "--no-webui",
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run llama-cpp-python's server in this process (blocks until it stops)."""
    args = list(sys.argv[1:] if argv is None else argv)
    extra_buffers = "--extra-buffers" in args
    args = [a for a in args if a != "--extra-buffers"]
    try:
        from llama_cpp.server.__main__ import main as server_main
    except ImportError as exc:
        print(
            f"error: llama-cpp-python's server is not installed ({exc.name} is missing)\n"
            "  fix: pip install 'plantagent[llm,server]'",
            file=sys.stderr,
        )
        return 2
    from agent.llm.llama_loader import model_params

    sys.argv = ["llama_cpp.server", *args]
    # The patch stays on for the server's life: it may load the model again (another alias).
    with model_params(extra_buffers):
        server_main()
    return 0


@dataclass
class ServerProcess:
    """``python -m agent.llm.server_launcher`` (or llama.cpp's ``llama-server`` binary)
    as a child process, on loopback."""

    model_path: Path
    alias: str
    threads: int = 1
    context_tokens: int = 4096
    host: str = "127.0.0.1"
    port: int = 0
    log: Path | None = None
    #: llama.cpp's ``llama-server`` binary to run instead of llama-cpp-python's server.
    llama_server: Path | None = None

    def __post_init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        """The server's OpenAI API base (``.../v1``)."""
        return f"http://{self.host}:{self.port}/v1"

    def start(self, *, ready_timeout_s: float = 120.0) -> str:
        """Start the server and wait until it lists its model; the base URL."""
        if self.llama_server is not None and not os.access(self.llama_server, os.X_OK):
            raise ModelError(f"{self.llama_server} is not an executable llama-server",
                             fix="build llama.cpp's llama-server (docs/inference-servers.md) "
                             "and give its path")
        if not self.port:
            self.port = free_port(self.host)
        builder, command = ((llama_server_args, [str(self.llama_server)])
                            if self.llama_server is not None
                            else (server_args, [sys.executable, "-m", MODULE]))
        argv = [*command, *builder(
            self.model_path, alias=self.alias, host=self.host, port=self.port,
            threads=self.threads, context_tokens=self.context_tokens)]  # fmt: skip
        self._log = open(self.log, "wb") if self.log else None  # noqa: SIM115 (kept open)
        out = self._log if self._log is not None else subprocess.DEVNULL
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            wait_ready(self.base_url, ready_timeout_s, process=self._proc)
        except BaseException:
            self.stop()
            raise
        return self.base_url

    def stop(self) -> None:
        """Terminate the server (killed if it does not stop within 10 s)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on now (the server binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_ready(
    base_url: str, timeout_s: float, *, process: subprocess.Popen[Any] | None = None
) -> None:
    """Block until ``GET {base_url}/models`` answers 200 (the model is loaded)."""
    host_port = base_url.split("//", 1)[1].split("/", 1)[0]
    path = "/" + base_url.split("//", 1)[1].split("/", 1)[1].rstrip("/") + "/models"
    host, _, port = host_port.rpartition(":")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ModelError(
                f"the model server exited with code {process.returncode} before it was ready",
                fix="read its log; check the model file and free memory",
            )
        conn = http.client.HTTPConnection(host, int(port), timeout=2)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status == 200 and json.loads(body).get("data"):
                return
        except (OSError, http.client.HTTPException, ValueError):
            pass
        finally:
            conn.close()
        time.sleep(0.25)
    raise ModelError(
        f"the model server at {base_url} was not ready within {timeout_s:g} s",
        fix="read its log; a large model on a slow disk needs longer",
    )


if __name__ == "__main__":
    sys.exit(main())
