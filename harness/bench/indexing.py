"""Indexing speed: manuals and work orders into the encrypted twin database, against the
raw embedding throughput of the same model on the same texts, in the same run.

- raw: ``LlamaEmbedder.embed`` alone on the texts the index embeds (the limit);
- work orders: ``IncidentMemory.load`` of N records (the demo's 24, varied to N distinct
  records) into a fresh encrypted database, then the same load again (nothing changed:
  nothing may be embedded);
- manuals: ``DocumentIndex.add_paths`` of the demo manuals, then again unchanged.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from agent.settings import load_settings
from agent.twin.documents.index import DocumentIndex, expand_paths
from agent.twin.embeddings.runtime import load_embedder
from agent.twin.incidents.memory import IncidentMemory
from agent.twin.incidents.records import IncidentRecord, load_incident_files
from agent.vault import open_database
from harness.bench.result import BenchResult
from plant.docs import demo_documents
from plant.incidents import demo_incident_files

Say = Callable[[str], None]


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


def run(models_dir: Path, *, orders: int = 3388, threads: int = 2,
        say: Say = lambda _: None) -> BenchResult:  # fmt: skip
    """Raw embedding vs indexing of work orders and manuals (chunks per second)."""
    settings = load_settings(None, model={"directory": models_dir, "threads": threads})
    embedder = load_embedder(settings, assemble=False)
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
    tokens = sum(len(t) for t in texts) / max(len(texts), 1)
    result.notes.append(f"a work-order text averages {tokens:.0f} characters (about "
                        f"{tokens / 3.5:.0f} tokens); a manual chunk up to 1,000")
    return result
