"""Retrieval recall of the document index on the demo documents: FTS, vectors, hybrid.

Indexes the demo plant's manuals and runbooks into a throw-away encrypted database with
the real embedding model, runs the hand-written evaluation queries
(plant/docs/retrieval_eval.json) and prints recall@k per mode, plus the misses.

    python -m harness.evals.retrieval_run [--k 1 3 5] [--models-dir DIR] [--wheels DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from agent.settings import load_settings
from agent.twin.documents.index import DocumentIndex
from agent.twin.embeddings.runtime import load_embedder
from agent.vault import open_database
from harness.evals.retrieval import evaluate, format_table, load_eval_set
from plant.docs import demo_documents, retrieval_eval_path


def main() -> int:
    """Run the evaluation and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--k", type=int, nargs="+", default=[1, 3, 5], help="cut-offs")
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=None,
        help="where the embedding GGUF is (default: the site's models dir)",
    )
    parser.add_argument("--wheels", type=Path, default=None, help="wheel folder for assembly")
    args = parser.parse_args()
    overrides: dict[str, Any] = {"model": {"directory": args.models_dir}} if args.models_dir else {}
    settings = load_settings(None, **overrides)
    embedder = load_embedder(settings, wheels_dir=args.wheels)
    with tempfile.TemporaryDirectory() as tmp:
        conn = open_database(Path(tmp) / "eval.db", os.urandom(32), create=True)
        index = DocumentIndex(conn, embedder)
        start = time.perf_counter()
        results = index.add_paths(demo_documents())
        chunks = sum(r.chunks for r in results)
        print(
            f"indexed {len(results)} documents, {chunks} chunks in "
            f"{time.perf_counter() - start:.1f} s",
            file=sys.stderr,
        )
        queries = load_eval_set(retrieval_eval_path())
        start = time.perf_counter()
        table = evaluate(index, queries, ks=tuple(args.k))
        print(
            f"{len(queries)} queries x {len({r.mode for r in table})} modes in "
            f"{time.perf_counter() - start:.1f} s",
            file=sys.stderr,
        )
        print(format_table(table))
        for result in table:
            if result.k == max(args.k):
                for query in result.missed:
                    print(f"  {result.mode} missed @{result.k}: {query}")
        conn.close()
    embedder.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
