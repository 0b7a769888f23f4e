"""Opening a GGUF file with llama-cpp-python, with llama.cpp's extra CPU buffers optional.

llama.cpp moves weights into "extra buffer types" (AMX tiles, repacked layouts) when the
CPU reports support. On a VM that reports AMX (our 2-core build box does), the AMX matmul
segfaults on the first multi-token batch, taking the whole process down. llama-cpp-python
does not expose ``use_extra_bufts``, so while the Llama object is built we hand it default
model parameters with the flag set as asked. Off by default: a slower matmul beats a
crashed agent; a site whose CPU runs AMX correctly can turn it on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agent.errors import ModelError

# Swapping a function of the llama_cpp module is process-wide: serialise model loads.
_LOAD_LOCK = threading.Lock()


@contextmanager
def model_params(extra_buffers: bool) -> Iterator[None]:
    """While inside, llama.cpp's default model parameters have ``use_extra_bufts`` set as
    asked (``server_launcher`` keeps it for a whole server's life)."""
    import llama_cpp.llama_cpp as lib

    original = lib.llama_model_default_params

    def params() -> Any:
        p = original()
        p.use_extra_bufts = extra_buffers
        return p

    lib.llama_model_default_params = params
    try:
        yield
    finally:
        lib.llama_model_default_params = original


def open_llama(
    path: Path,
    *,
    n_ctx: int,
    threads: int,
    n_batch: int = 512,
    seed: int = 0,
    extra_buffers: bool = False,
    **options: Any,
) -> Any:
    """A ``llama_cpp.Llama`` for ``path`` (the caller verified the file first);
    ``options`` are more of ``Llama``'s arguments (``embedding``, ``n_ubatch``, ...)."""
    try:
        from llama_cpp import Llama
    except ImportError:
        raise ModelError(
            "llama-cpp-python is not installed",
            fix="install the llm extra: pip install 'plantagent[llm]'",
        ) from None
    with _LOAD_LOCK, model_params(extra_buffers):
        try:
            return Llama(
                model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                n_batch=min(n_batch, n_ctx), seed=seed, verbose=False, **options,
            )  # fmt: skip
        except (ValueError, RuntimeError) as exc:
            raise ModelError(
                f"llama.cpp could not load {path}: {exc}",
                fix="check free memory and that llama-cpp-python supports this model",
            ) from None
