"""Vector search latency: sqlite-vec (vec0, in the encrypted database) next to NumPy.

For each corpus size, N random unit vectors of the embedding dimension (384) are stored
in a ``vec0`` table of an encrypted SQLite3MC database (as the document index stores
them), and the same vectors are held in a NumPy float32 matrix. The same queries are run
through both: sqlite-vec's KNN (``embedding MATCH ? AND k = ?``) and a brute-force
``matrix @ query`` with ``argpartition``. Both are exact searches; the top-k ids are
checked to agree. Prints median and p95 latency and the ratio.

Three sqlite-vec set-ups are measured: the encrypted database as the site opens it
(default page cache, 2 MB: every query decrypts the pages again), the same with a page
cache big enough for the vectors, and a plain in-memory database (no encryption, no I/O).

    python benchmarks/vector_bench.py [--sizes 10000 100000] [--queries 50] [--k 10]
                                      [--variants encrypted encrypted+cache memory]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# One BLAS thread, set before NumPy loads: sqlite-vec searches on one thread too, and on a
# shared 2-core machine a second BLAS thread mostly waits for a time slice (a bimodal
# 0.3 ms / 8 ms latency), which would measure the scheduler rather than the search.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import apsw
import numpy as np
import sqlite_vec

from agent.vault import open_database

DIM = 384


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _timings(fn, queries: np.ndarray) -> tuple[list[float], list[list[int]]]:  # type: ignore[no-untyped-def]
    times, ids = [], []
    for q in queries:
        start = time.perf_counter()
        ids.append(fn(q))
        times.append((time.perf_counter() - start) * 1000.0)
    return times, ids


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


VARIANTS = ("encrypted", "encrypted+cache", "memory")


def _connect(variant: str, tmp: str) -> apsw.Connection:
    if variant == "memory":
        conn = apsw.Connection(":memory:")
        conn.enable_load_extension(True)
        conn.load_extension(sqlite_vec.loadable_path())
        return conn
    conn = open_database(Path(tmp) / "bench.db", os.urandom(32), create=True)
    if variant == "encrypted+cache":
        conn.execute("PRAGMA cache_size = -1048576")  # 1 GiB: every page stays decrypted
    return conn


def bench(n: int, queries: int, k: int, rng: np.random.Generator, variant: str) -> dict[str, float]:
    """Latencies (ms) of both searches over ``n`` vectors."""
    vectors = _unit(rng, n)
    qs = _unit(rng, queries)
    with tempfile.TemporaryDirectory() as tmp:
        conn = _connect(variant, tmp)
        conn.execute(
            f"CREATE VIRTUAL TABLE v USING vec0(embedding float[{DIM}] distance_metric=cosine)"
        )
        start = time.perf_counter()
        with conn:
            conn.executemany(
                "INSERT INTO v(rowid, embedding) VALUES (?, ?)",
                ((i, vectors[i].tobytes()) for i in range(n)),
            )
        insert_s = time.perf_counter() - start
        sql = "SELECT rowid FROM v WHERE embedding MATCH ? AND k = ? ORDER BY distance"

        def vec_search(q: np.ndarray) -> list[int]:
            return [int(r[0]) for r in conn.execute(sql, (q.tobytes(), k))]

        def numpy_search(q: np.ndarray) -> list[int]:
            scores = vectors @ q
            top = np.argpartition(-scores, k)[:k]
            return [int(i) for i in top[np.argsort(-scores[top])]]

        vec_search(qs[0])  # warm the caches (OS, and the page cache where it is big enough)
        vec_t, vec_ids = _timings(vec_search, qs)
        np_t, np_ids = _timings(numpy_search, qs)
        agree = sum(a == b for a, b in zip(vec_ids, np_ids, strict=True)) / queries
        conn.close()
    return {
        "n": n,
        "insert_s": insert_s,
        "vec_med": statistics.median(vec_t),
        "vec_p95": _p95(vec_t),
        "np_med": statistics.median(np_t),
        "np_p95": _p95(np_t),
        "agree": agree,
    }


def main() -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"dim {DIM}, k {args.k}, {args.queries} queries per size, exact search both sides")
    print(
        f"{'vectors':>8} {'sqlite-vec db':>16} {'insert s':>9} {'sqlite-vec med/p95 ms':>22} "
        f"{'numpy med/p95 ms':>18} {'vec/numpy':>10} {'same top-k':>10}"
    )
    for n in args.sizes:
        for variant in args.variants:
            r = bench(n, args.queries, args.k, rng, variant)
            ratio = r["vec_med"] / r["np_med"]
            print(
                f"{n:>8} {variant:>16} {r['insert_s']:>9.1f} {r['vec_med']:>12.2f} / "
                f"{r['vec_p95']:<7.2f} {r['np_med']:>8.2f} / {r['np_p95']:<7.2f} "
                f"{ratio:>9.1f}x {r['agree']:>9.0%}"
            )
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
