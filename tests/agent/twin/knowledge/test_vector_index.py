"""The in-memory vector index: the same neighbours as brute force and as sqlite-vec over
the same vectors in an encrypted database, and fresh after every write."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agent.twin.documents.store import DocumentStore
from agent.twin.vector_index import VectorIndex

from .twin_docs_helpers import new_db

DIM = 384


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_same_top_results_as_brute_force_and_sqlite_vec(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    vectors, queries = _unit(rng, 3000), _unit(rng, 25)
    conn, _ = new_db(tmp_path / "twin.db")
    store = DocumentStore(conn)
    store.ensure_vectors("test-model", DIM)
    with conn:
        for i, v in enumerate(vectors, start=1):
            store.put_vector(i, v)
    index = VectorIndex(store._vector_rows, DIM)
    sql = "SELECT rowid FROM doc_vec WHERE embedding MATCH ? AND k = ? ORDER BY distance"
    for q in queries:
        scores = vectors @ q
        brute = [int(i) + 1 for i in np.argsort(-scores)[:10]]
        found = index.search(q, 10)
        assert [i for i, _ in found] == brute
        assert [int(r[0]) for r in conn.execute(sql, (q.tobytes(), 10))] == brute
        np.testing.assert_allclose([s for _, s in found], np.sort(scores)[::-1][:10], atol=1e-6)
        assert store.search_vectors(q, 10) == found
    conn.close()


def test_writes_are_seen_by_the_next_search(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    a, b = _unit(rng, 2)
    conn, key = new_db(tmp_path / "twin.db")
    store = DocumentStore(conn)
    store.ensure_vectors("test-model", DIM)
    with conn:
        store.put_vector(1, a)
    assert store.search_vectors(b, 5) == [(1, float(a @ b))]
    with conn:
        store.put_vector(2, b)
    assert store.search_vectors(b, 5)[0][0] == 2  # this connection's write
    from agent.vault import open_database

    other = open_database(tmp_path / "twin.db", key)
    with other:
        other.execute("DELETE FROM doc_vec WHERE rowid = 2")
    other.close()
    assert [i for i, _ in store.search_vectors(b, 5)] == [1]  # another connection's write
    assert VectorIndex(lambda: [], DIM).search(a, 3) == []
    conn.close()
