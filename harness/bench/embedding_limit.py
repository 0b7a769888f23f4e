"""The hardware's limit of embedding, and the quantised model measured against the one in use.

Embedding is matrix products: a BERT encoder of L layers, width d and feed-forward width
f spends, on a text of n tokens, 2·n·(4·d² + 2·d·f) FLOPs a layer in its projections and
feed-forward and 4·n²·d in attention (QKᵀ and the weighted sum). Divided into the
machine's own single-precision GEMM rate (NumPy's BLAS: the best case of matrix
products) that gives the chunks per CPU-second no
runtime could beat on this CPU. Both are measured per CPU-second, so the other jobs on a
shared machine move them alike.

The quantised variants are made here, from the model file in use, with llama.cpp's own
quantize API (deterministic: the same input gives the same bytes and sha256), and
compared on the same texts: speed, and whether the same chunks come back in the top k of
the same queries (agreement of the top-k sets, the quantised model's results against
the current vectors).
"""

from __future__ import annotations

import ctypes
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class EncoderShape:
    """What decides an encoder's FLOPs per token."""

    layers: int
    width: int
    feed_forward: int

    def flops(self, tokens: float) -> float:
        """FLOPs of one forward pass over a text of ``tokens`` tokens."""
        d, f, n = self.width, self.feed_forward, tokens
        return self.layers * (2 * n * (4 * d * d + 2 * d * f) + 4 * n * n * d)


def encoder_shape(metadata: dict[str, str]) -> EncoderShape:
    """The shape of a GGUF encoder from its metadata (``bert.block_count`` etc.)."""
    arch = metadata.get("general.architecture", "bert")
    return EncoderShape(
        layers=int(metadata[f"{arch}.block_count"]),
        width=int(metadata[f"{arch}.embedding_length"]),
        feed_forward=int(metadata[f"{arch}.feed_forward_length"]),
    )


def gemm_flops_per_cpu_second(seconds: float = 2.0) -> float:
    """Single-precision matrix products per CPU-second (NumPy's BLAS): the best the CPU
    does at the work embedding is made of; the better of two ways of measuring it.

    Large products (1024 x 1024) run on every BLAS thread, whose threads spin while they
    wait for a core another job holds, and that spinning counts as CPU time; a stack of
    64 x 64 products (the largest OpenBLAS keeps on one thread, the stack looped in C)
    cannot spin but runs a little below the CPU's best. On a quiet machine the first is
    higher, on a busy one the second.
    """
    rng = np.random.default_rng(0)
    shapes = ((1, 1024), (512, 64))  # (stack, side)
    best = 0.0
    for stack, side in shapes:
        a = rng.random((stack, side, side), dtype=np.float32)
        b = rng.random((stack, side, side), dtype=np.float32)
        a @ b  # warm up (threads, pages)
        flops = 2 * stack * side**3
        for _ in range(5):
            reps, start, cpu = 0, time.perf_counter(), time.process_time()
            while time.perf_counter() - start < seconds / 10:
                a @ b
                reps += 1
            used = time.process_time() - cpu
            if used > 0:
                best = max(best, flops * reps / used)
    return best


def quantize(source: Path, target: Path, kind: str = "Q8_0") -> str:
    """Quantise the GGUF ``source`` into ``target`` with llama.cpp; returns its sha256."""
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.nthread = 1
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{kind}")
    status = llama_cpp.llama_model_quantize(
        str(source).encode(), str(target).encode(), ctypes.byref(params)
    )
    if status != 0:
        raise RuntimeError(f"llama.cpp could not quantise {source} to {kind} ({status})")
    digest = hashlib.sha256()
    with target.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def top_k_agreement(
    corpus: np.ndarray, queries: np.ndarray, other_corpus: np.ndarray,
    other_queries: np.ndarray, k: int = 5,
) -> tuple[float, float]:
    """Mean and worst share of each query's top ``k`` (by dot product) that the other
    vectors of the same texts return too."""
    ours = np.argsort(-(queries @ corpus.T), axis=1)[:, :k]
    theirs = np.argsort(-(other_queries @ other_corpus.T), axis=1)[:, :k]
    shares = [len(set(a) & set(b)) / k for a, b in zip(ours, theirs, strict=True)]
    return float(np.mean(shares)), float(min(shares))


def embed_cpu_seconds(embedder: Any, texts: list[str]) -> tuple[np.ndarray, float]:
    """Vectors of ``texts`` and the CPU-seconds they took (best of two runs)."""
    best, vectors = float("inf"), None
    for _ in range(2):
        cpu = time.process_time()
        vectors = embedder.embed(texts)
        best = min(best, time.process_time() - cpu)
    assert vectors is not None
    return vectors, best
