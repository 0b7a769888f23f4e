"""The document tables of the twin database: documents, chunks, FTS5 and vector indexes.

Tables (all in the site's encrypted twin database):
``doc_documents`` one row per indexed file, keyed by its source path;
``doc_chunks`` the chunks with section and line range;
``doc_fts`` an FTS5 index over (title, section, text), rowid = chunk id;
``doc_vec`` a sqlite-vec ``vec0`` table of unit vectors, rowid = chunk id.
The vector table's dimension and the embedding model are fixed when it is created and
recorded in ``twin_meta``; a different model needs ``plantagent docs reindex``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import apsw
import numpy as np

from agent.errors import UsageError
from agent.twin.documents.chunking import Chunk
from agent.twin.vector_index import VectorIndex
from agent.vault.migrations import apply_migrations, meta_get, meta_set

_MIGRATIONS = [
    (
        "0001_documents",
        """
        CREATE TABLE doc_documents(
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            title TEXT NOT NULL,
            kind TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            added_at TEXT NOT NULL,
            chunk_count INTEGER NOT NULL);
        CREATE TABLE doc_chunks(
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES doc_documents(id),
            ordinal INTEGER NOT NULL,
            section TEXT NOT NULL,
            line_start INTEGER NOT NULL,
            line_end INTEGER NOT NULL,
            text TEXT NOT NULL);
        CREATE INDEX doc_chunks_document ON doc_chunks(document_id);
        CREATE VIRTUAL TABLE doc_fts USING fts5(
            title, section, text, tokenize = 'porter unicode61')
        """,
    ),
]

# Column weights of bm25: a word in a heading says more than one in the body.
_BM25 = "bm25(doc_fts, 2.0, 3.0, 1.0)"
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "the",
        "to",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "with",
        "should",
        "can",
        "my",
        "our",
        "we",
        "you",
    ]
)
_TOKEN = re.compile(r"\w+(?:[-.]\w+)*")


@dataclass(frozen=True)
class DocumentRow:
    """One indexed document."""

    id: int
    source: str
    name: str
    title: str
    kind: str
    sha256: str
    added_at: str
    chunk_count: int


@dataclass(frozen=True)
class ChunkRow:
    """One stored chunk with its document's name and title."""

    id: int
    document: str
    title: str
    section: str
    line_start: int
    line_end: int
    text: str


def embedding_text(title: str, section: str, text: str) -> str:
    """What a chunk's vector is computed from: the heading path gives it its context."""
    return f"{title}\n{section}\n{text}"


def fts_query(text: str) -> str | None:
    """An FTS5 query matching any meaningful word of ``text`` (None if it has none).

    Every term is quoted, so user text can never be read as FTS5 syntax; "P-101" stays
    one phrase.
    """
    terms = [t for t in _TOKEN.findall(text.lower()) if t not in _STOPWORDS]
    unique = list(dict.fromkeys(terms))
    return " OR ".join('"' + t.replace('"', "") + '"' for t in unique) or None


class DocumentStore:
    """SQL over the document tables of one open twin database connection."""

    def __init__(self, conn: apsw.Connection) -> None:
        self.conn = conn
        apply_migrations(conn, "documents", _MIGRATIONS)
        self._vectors: VectorIndex | None = None

    def _data_version(self) -> int:
        # Changes when another connection (another process) commits to the database.
        return int(next(iter(self.conn.execute("PRAGMA data_version")))[0])

    def _vector_rows(self) -> list[tuple[int, bytes]]:
        return [(int(r), bytes(v)) for r, v in
                self.conn.execute("SELECT rowid, embedding FROM doc_vec")]  # fmt: skip

    def ensure_vectors(self, model: str, dim: int) -> None:
        """Create the vector table for ``model`` or check it matches the existing one."""
        self._vectors = VectorIndex(self._vector_rows, dim, self._data_version)
        stored = meta_get(self.conn, "documents.embedding_model")
        if stored is None:
            with self.conn:
                self.conn.execute(
                    f"CREATE VIRTUAL TABLE IF NOT EXISTS doc_vec USING vec0("
                    f"embedding float[{int(dim)}] distance_metric=cosine)"
                )
                meta_set(self.conn, "documents.embedding_model", f"{model}:{dim}")
        elif stored != f"{model}:{dim}":
            raise UsageError(
                f"the document index was built with the embedding model {stored}, "
                f"not {model}:{dim}",
                fix="run `plantagent docs reindex` to rebuild it with the current model",
            )

    def _invalidate(self) -> None:
        if self._vectors is not None:
            self._vectors.invalidate()

    def drop_vectors(self) -> None:
        """Forget the vector table and its model (before re-embedding every chunk)."""
        self._invalidate()
        with self.conn:
            self.conn.execute("DROP TABLE IF EXISTS doc_vec")
            self.conn.execute("DELETE FROM twin_meta WHERE key = 'documents.embedding_model'")

    def all_chunks(self) -> list[ChunkRow]:
        """Every stored chunk, in document order."""
        sql = (
            "SELECT c.id, d.name, d.title, c.section, c.line_start, c.line_end, c.text "
            "FROM doc_chunks c JOIN doc_documents d ON d.id = c.document_id "
            "ORDER BY c.id"
        )
        return [ChunkRow(*r) for r in self.conn.execute(sql)]

    def put_vector(self, chunk_id: int, vector: np.ndarray) -> None:
        """Store the vector of one chunk."""
        self._invalidate()
        self.conn.execute(
            "INSERT INTO doc_vec(rowid, embedding) VALUES (?, ?)",
            (chunk_id, np.asarray(vector, dtype=np.float32).tobytes()),
        )

    def vectors_by_text(self, doc_id: int) -> dict[str, np.ndarray]:
        """The stored vector of each chunk of a document, keyed by the sha256 of the text
        it was embedded from (title, section and text, as the index builds it)."""
        sql = (
            "SELECT d.title, c.section, c.text, v.embedding FROM doc_chunks c "
            "JOIN doc_documents d ON d.id = c.document_id JOIN doc_vec v ON v.rowid = c.id "
            "WHERE c.document_id = ?"
        )
        out: dict[str, np.ndarray] = {}
        for title, section, text, blob in self.conn.execute(sql, (doc_id,)):
            key = hashlib.sha256(embedding_text(title, section, text).encode()).hexdigest()
            out[key] = np.frombuffer(blob, dtype=np.float32).copy()
        return out

    def document_by_source(self, source: str) -> DocumentRow | None:
        """The document indexed from ``source``, if any."""
        rows = self._documents("WHERE source = ?", (source,))
        return rows[0] if rows else None

    def documents(self) -> list[DocumentRow]:
        """All indexed documents, by name."""
        return self._documents("ORDER BY name, source", ())

    def _documents(self, where: str, params: tuple[object, ...]) -> list[DocumentRow]:
        sql = (
            "SELECT id, source, name, title, kind, sha256, added_at, chunk_count "
            f"FROM doc_documents {where}"
        )
        return [DocumentRow(*row) for row in self.conn.execute(sql, params)]

    def replace_document(
        self,
        *,
        source: str,
        name: str,
        title: str,
        kind: str,
        sha256: str,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
    ) -> int:
        """Store a document and its chunks, replacing an earlier version; return its id."""
        with self.conn:
            old = self.document_by_source(source)
            if old is not None:
                self._delete_chunks(old.id)
                self.conn.execute("DELETE FROM doc_documents WHERE id = ?", (old.id,))
            self.conn.execute(
                "INSERT INTO doc_documents(source, name, title, kind, sha256, added_at, "
                "chunk_count) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (source, name, title, kind, sha256, datetime.now(UTC).isoformat(), len(chunks)),
            )
            doc_id = int(self.conn.last_insert_rowid())
            for ordinal, (chunk, vector) in enumerate(zip(chunks, vectors, strict=True)):
                self.conn.execute(
                    "INSERT INTO doc_chunks(document_id, ordinal, section, line_start, "
                    "line_end, text) VALUES (?, ?, ?, ?, ?, ?)",
                    (doc_id, ordinal, chunk.section, chunk.line_start, chunk.line_end, chunk.text),
                )
                chunk_id = int(self.conn.last_insert_rowid())
                self.conn.execute(
                    "INSERT INTO doc_fts(rowid, title, section, text) VALUES (?, ?, ?, ?)",
                    (chunk_id, title, chunk.section, chunk.text),
                )
                self.put_vector(chunk_id, vector)
        return doc_id

    def remove_document(self, source: str) -> bool:
        """Remove the document indexed from ``source``; True if there was one."""
        with self.conn:
            old = self.document_by_source(source)
            if old is None:
                return False
            self._delete_chunks(old.id)
            self.conn.execute("DELETE FROM doc_documents WHERE id = ?", (old.id,))
        return True

    def _delete_chunks(self, doc_id: int) -> None:
        self._invalidate()
        ids = [
            r[0]
            for r in self.conn.execute("SELECT id FROM doc_chunks WHERE document_id = ?", (doc_id,))
        ]
        for chunk_id in ids:
            self.conn.execute("DELETE FROM doc_fts WHERE rowid = ?", (chunk_id,))
            self.conn.execute("DELETE FROM doc_vec WHERE rowid = ?", (chunk_id,))
        self.conn.execute("DELETE FROM doc_chunks WHERE document_id = ?", (doc_id,))

    def search_fts(self, query: str, limit: int) -> list[int]:
        """Chunk ids best first by bm25 for ``query`` (any of its words)."""
        match = fts_query(query)
        if match is None:
            return []
        sql = f"SELECT rowid FROM doc_fts WHERE doc_fts MATCH ? ORDER BY {_BM25} LIMIT ?"
        return [int(r[0]) for r in self.conn.execute(sql, (match, limit))]

    def search_vectors(self, vector: np.ndarray, limit: int) -> list[tuple[int, float]]:
        """(chunk id, cosine similarity) of the nearest chunks, best first.

        Exact search in memory (:class:`VectorIndex`): the vectors are decrypted from
        ``doc_vec`` once per process and again only after a write."""
        if self._vectors is None or meta_get(self.conn, "documents.embedding_model") is None:
            return []
        return self._vectors.search(vector, limit)

    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRow]:
        """The chunks with these ids, keyed by id."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        sql = (
            "SELECT c.id, d.name, d.title, c.section, c.line_start, c.line_end, c.text "
            "FROM doc_chunks c JOIN doc_documents d ON d.id = c.document_id "
            f"WHERE c.id IN ({marks})"
        )
        return {int(r[0]): ChunkRow(*r) for r in self.conn.execute(sql, tuple(ids))}
