"""Indexing speed: manuals and work orders into the encrypted twin database, against the
raw embedding throughput of the same model on the same texts, in the same run.

- raw: ``LlamaEmbedder.embed`` alone on the texts the index embeds (the limit);
- work orders: ``IncidentMemory.load`` of N records (the demo's 24, varied to N distinct
  records) into a fresh encrypted database, then the same load again (nothing changed:
  nothing may be embedded);
- manuals: ``DocumentIndex.add_paths`` of the demo manuals, then again unchanged.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from agent.llm.registry import ModelEntry
from agent.settings import load_settings
from agent.twin.documents.index import DocumentIndex, expand_paths
from agent.twin.embeddings.assemble import embedding_entry
from agent.twin.embeddings.runtime import LlamaEmbedder, load_embedder
from agent.twin.incidents.memory import IncidentMemory
from agent.twin.incidents.records import IncidentRecord, load_incident_files
from agent.vault import open_database
from harness.bench import static_embedding
from harness.bench.embedding_limit import (
    embed_cpu_seconds,
    encoder_shape,
    gemm_flops_per_cpu_second,
    quantize,
    top_k_agreement,
)
from harness.bench.result import BenchResult
from plant.docs import demo_documents
from plant.incidents import demo_incident_files

Say = Callable[[str], None]

#: Issue 22's goal for indexing on two cores, chunks per second.
INDEX_GOAL = 200
#: The llama.cpp quantisations of the embedding model compared with the one in use.
QUANTISED = ("Q8_0", "BF16")


def work_orders(n: int) -> list[IncidentRecord]:
    """``n`` distinct work orders: the demo history, each copy with its own id and words."""
    base = load_incident_files(demo_incident_files())
    out = []
    for i in range(n):
        record = base[i % len(base)]
        out.append(record.model_copy(update={
            "id": f"WO-B{i:05d}",
            "symptoms": f"{record.symptoms} Reported by shift {i % 3 + 1}, round {i // 3}.",
        }))  # fmt: skip
    return out


def run(models_dir: Path, *, orders: int = 3388, threads: int = 2, limit_chunks: int | None = None,
        distill_tokens: int | None = None, say: Say = lambda _: None) -> BenchResult:  # fmt: skip
    """Raw embedding vs indexing of work orders and manuals (chunks per second); the
    manuals' raw embedding (their first ``limit_chunks`` chunks; None: all) against the
    CPU's limit, against quantised copies of the model and against a static model
    distilled from it (``distill_tokens``: only that many tokens, for a quick check)."""
    settings = load_settings(None, model={"directory": models_dir, "threads": threads})
    embedder = load_embedder(settings, assemble=False)
    embedder_entry_path = (embedding_entry(settings), settings.models_dir, threads)
    result = BenchResult("indexing", f"indexing vs raw embedding ({embedder.model_name}, "
                         f"{embedder.threads} contexts of 1 thread, {orders} work orders)",
                         params={"orders": orders, "threads": threads})  # fmt: skip
    records = work_orders(orders)
    texts = [r.similarity_text() for r in records]
    try:
        embedder.embed(texts[:16])  # warm up
        say(f"raw embedding of {len(texts)} work-order texts")
        start = time.perf_counter()
        embedder.embed(texts)
        raw_s = time.perf_counter() - start
        with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
            conn = open_database(Path(tmp) / "twin.db", os.urandom(32), create=True)
            memory = IncidentMemory(conn, embedder)
            say(f"loading {len(records)} work orders")
            start = time.perf_counter()
            counts = memory.load(records)
            load_s = time.perf_counter() - start
            start = time.perf_counter()
            again = memory.load(records)
            reload_s = time.perf_counter() - start
            say("indexing the demo manuals")
            index = DocumentIndex(conn, embedder)
            files = expand_paths(demo_documents())
            start = time.perf_counter()
            added = index.add_paths(files)
            docs_s = time.perf_counter() - start
            chunk_texts = [f"{c.title}\n{c.section}\n{c.text}" for c in index.store.all_chunks()]
            start = time.perf_counter()
            embedder.embed(chunk_texts)
            docs_raw_s = time.perf_counter() - start
            start = time.perf_counter()
            index.add_paths(files)
            docs_reload_s = time.perf_counter() - start
            conn.close()
    finally:
        embedder.close()
    chunks = sum(r.chunks for r in added)
    result.add("work orders: raw embedding", len(texts) / raw_s, "texts/s")
    result.add("work orders: loaded into incident memory", len(records) / load_s, "records/s")
    result.add(f"work orders: {len(records)} loaded in", load_s, "s")
    result.add("work orders: reloaded unchanged in", reload_s, "s")
    result.add("manuals: raw embedding", chunks / docs_raw_s, "chunks/s")
    result.add("manuals: indexed (chunk, embed, store)", chunks / docs_s, "chunks/s")
    result.add("manuals: re-indexed unchanged in", docs_reload_s, "s")
    result.ratio("work orders: loading / raw embedding (records/s)", raw_s / load_s, 1.0,
                 f"{counts['added']} added; reload embedded {again['added'] + again['updated']}")
    result.ratio("manuals: indexing / raw embedding (chunks/s)", docs_raw_s / docs_s, 1.0,
                 f"{chunks} chunks in {len(files)} files")
    result.ratio(f"manuals: indexed / the goal of {INDEX_GOAL} chunks/s", chunks / docs_s,
                 INDEX_GOAL, f"{embedder.model_name}, {embedder.threads} contexts of 1 thread: "
                 "the model is the limit (below)")  # fmt: skip
    entry, _, _ = embedder_entry_path
    per_cpu_s, queries, corpus = _limit(result, embedder_entry_path, chunk_texts[:limit_chunks],
                                        texts, say)  # fmt: skip
    static_embedding.compare(result, entry, entry.path_in(settings.models_dir),
                             chunks=chunk_texts[:limit_chunks], queries=queries, corpus=corpus,
                             per_cpu_s=per_cpu_s, goal=INDEX_GOAL,
                             distill_tokens=distill_tokens, say=say)  # fmt: skip
    tokens = sum(len(t) for t in texts) / max(len(texts), 1)
    result.notes.append(f"a work-order text averages {tokens:.0f} characters (about "
                        f"{tokens / 3.5:.0f} tokens); a manual chunk up to 1,000")
    return result


def _limit(result: BenchResult, model: tuple[ModelEntry, Path, int], chunks: list[str],
           orders: list[str], say: Say) -> tuple[float, list[str], list[str]]:
    """The manuals' raw embedding per CPU-second against the CPU's GEMM limit at their
    measured length, and the QUANTISED copies of the model against the model in use
    (speed, and the same top 5 for the same queries). Returns the model's chunks per
    CPU-second and the agreement's queries and corpus."""
    entry, models_dir, threads = model
    say(f"the CPU's matrix-product rate; {' and '.join(QUANTISED)} copies of the model")
    gemm = gemm_flops_per_cpu_second()
    queries = [o.split("\n")[0] for o in orders[:24]] + [
        c.split("\n")[1] for c in chunks if c.count("\n") > 1][:60]  # fmt: skip
    corpus = chunks + orders[:24]
    runs: dict[str, tuple[np.ndarray, np.ndarray, float]] = {}
    digests: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bench-quant-") as tmp:
        variants = {"in use": entry.path_in(models_dir)}
        for kind in QUANTISED:
            variants[kind] = Path(tmp) / entry.file.replace(".gguf", f".{kind.lower()}.gguf")
            digests[kind] = quantize(entry.path_in(models_dir), variants[kind], kind)
        for name, path in variants.items():
            embedder = LlamaEmbedder(dataclasses.replace(entry, file=path.name), path,
                                     threads=threads)
            try:
                if name == "in use":
                    shape = encoder_shape(embedder.metadata)
                    tokens = float(np.mean(embedder.token_counts(chunks)))
                embedder.embed(chunks[:4])  # warm up
                _, cpu_s = embed_cpu_seconds(embedder, chunks)
                runs[name] = (embedder.embed(corpus), embedder.embed(queries), cpu_s)
            finally:
                embedder.close()
    per_cpu_s = len(chunks) / runs["in use"][2]
    limit = gemm / shape.flops(tokens)
    cores = os.cpu_count() or 1
    result.add("manuals: raw embedding per CPU-second", per_cpu_s, "chunks/CPU-s")
    result.add(f"manuals: mean chunk length ({entry.name})", tokens, "tokens")
    result.add("FLOPs per chunk at that length", shape.flops(tokens) / 1e9, "GFLOP")
    result.add("the CPU's GEMM rate (NumPy BLAS, float32)", gemm / 1e9, "GFLOP/CPU-s")
    result.add("limit: GEMM rate / FLOPs per chunk", limit, "chunks/CPU-s")
    result.ratio("manuals: raw embedding / the GEMM limit (per CPU-second)", per_cpu_s, limit,
                 f"goal {INDEX_GOAL} chunks/s on {cores} cores needs "
                 f"{INDEX_GOAL * shape.flops(tokens) / cores / 1e9:.0f} GFLOP/CPU-s, "
                 f"{INDEX_GOAL / (limit * cores):.1f}x the CPU's GEMM rate: "
                 f"{'within' if limit * cores >= INDEX_GOAL else 'beyond'} this hardware with "
                 "this model")
    for kind in QUANTISED:
        mean, worst = top_k_agreement(runs["in use"][0], runs["in use"][1], runs[kind][0],
                                      runs[kind][1])
        result.ratio(f"manuals: {kind} copy / model in use (chunks per CPU-second)",
                     runs["in use"][2], runs[kind][2],
                     f"top-5 agreement {mean:.3f} (worst query {worst:.1f}) over "
                     f"{len(queries)} queries; {kind} sha256 {digests[kind][:16]}…")
    return per_cpu_s, queries, corpus
