"""Manuals and runbooks of the site, indexed for hybrid search with citations.

:class:`DocumentIndex` is the one entry point: ``add_paths`` indexes Markdown, text and
PDF files (a changed file replaces its chunks, an unchanged one is skipped, a bad one is
reported and skipped), ``search`` returns cited chunks. Everything is stored in the
site's encrypted twin database. Calls block (SQLite, embedding): async callers use
``asyncio.to_thread``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import apsw
import numpy as np

from agent.errors import UsageError
from agent.twin.documents.chunking import Chunk, chunk_markdown, chunk_pages, chunk_plain
from agent.twin.documents.pdf import DocumentError, IngestLimits, pdf_pages
from agent.twin.documents.search import SearchHit, SearchMode, search
from agent.twin.documents.store import DocumentRow, DocumentStore, embedding_text
from agent.twin.embeddings.runtime import Embedder

__all__ = ["AddResult", "DocumentError", "DocumentIndex", "IngestLimits", "SearchHit"]

SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".pdf": "pdf"}

#: progress(done, total, label): chunks embedded of the chunks to embed
IndexProgress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class AddResult:
    """What happened to one file given to :meth:`DocumentIndex.add_paths`."""

    path: str
    status: Literal["added", "updated", "unchanged", "skipped"]
    chunks: int = 0
    error: str | None = None
    #: Chunks of a changed file whose text was unchanged: their vectors were kept.
    reused: int = 0


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files to index: the files given, and the supported files inside given folders."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES))
        else:
            out.append(path)
    return out


class DocumentIndex:
    """The document index in the twin database, searched with one embedding model."""

    def __init__(
        self,
        conn: apsw.Connection,
        embedder: Embedder,
        *,
        limits: IngestLimits | None = None,
        rebuild: bool = False,
        progress: IndexProgress | None = None,
    ) -> None:
        """Open the index; ``rebuild`` re-embeds every stored chunk with ``embedder``
        (needed after a change of embedding model)."""
        self.store = DocumentStore(conn)
        self.embedder = embedder
        self.limits = limits or IngestLimits()
        if rebuild:
            self._rebuild(progress)
        self.store.ensure_vectors(embedder.model_name, embedder.dim)

    def _rebuild(self, progress: IndexProgress | None) -> None:
        chunks = self.store.all_chunks()
        self.store.drop_vectors()
        self.store.ensure_vectors(self.embedder.model_name, self.embedder.dim)
        step = 256  # enough texts for every embedding context to be busy
        for start in range(0, len(chunks), step):
            batch = chunks[start : start + step]
            texts = [_embedding_text(c.title, Chunk(c.section, 0, 0, c.text)) for c in batch]
            vectors = self.embedder.embed(texts)
            with self.store.conn:
                for chunk, vector in zip(batch, vectors, strict=True):
                    self.store.put_vector(chunk.id, vector)
            if progress is not None:
                progress(start + len(batch), len(chunks), "chunks re-embedded")

    def add_paths(
        self, paths: Iterable[Path], *, progress: IndexProgress | None = None
    ) -> list[AddResult]:
        """Index every file (folders are walked); one bad file never stops the others.

        Files are read and chunked first, then every chunk that changed is embedded in one
        batched call (``progress(chunks done, chunks to embed, label)``), then each file is
        stored. An unchanged file (same sha256) is skipped; in a changed file, a chunk
        whose text is unchanged keeps its vector."""
        files = expand_paths(paths)
        results: dict[int, AddResult] = {}
        pending: list[tuple[int, _Pending]] = []
        for position, path in enumerate(files):
            try:
                prepared = self._prepare(path)
            except DocumentError as exc:
                results[position] = AddResult(str(path), "skipped", error=str(exc))
                continue
            if isinstance(prepared, AddResult):
                results[position] = prepared
            else:
                pending.append((position, prepared))
        self._embed_pending([p for _, p in pending], progress)
        for position, item in pending:
            self.store.replace_document(
                source=item.source, name=item.path.name, title=item.title, kind=item.kind,
                sha256=item.digest, chunks=item.chunks, vectors=item.vectors,
            )  # fmt: skip
            results[position] = AddResult(str(item.path),
                                          "updated" if item.replaces else "added",
                                          len(item.chunks), reused=item.reused)  # fmt: skip
        return [results[i] for i in range(len(files))]

    def add_file(self, path: Path) -> AddResult:
        """Index one file; DocumentError if it cannot be read or is not supported."""
        [result] = self.add_paths([path])
        if result.error is not None:
            raise DocumentError(result.error, fix="see the message")
        return result

    def _prepare(self, path: Path) -> _Pending | AddResult:
        """Read and chunk one file, or say it is unchanged."""
        kind = SUFFIXES.get(path.suffix.lower())
        if kind is None:
            raise DocumentError(
                f"{path.name}: {path.suffix or 'no suffix'} files are not supported; "
                "it was skipped",
                fix=f"give Markdown, text or PDF files ({', '.join(sorted(SUFFIXES))})",
            )
        if not path.is_file():
            raise DocumentError(
                f"{path} does not exist or is not a file; it was skipped",
                fix="check the path",
            )
        source = str(path.resolve())
        data = self._read(path)
        digest = hashlib.sha256(data).hexdigest()
        old = self.store.document_by_source(source)
        if old is not None and old.sha256 == digest:
            return AddResult(str(path), "unchanged", old.chunk_count)
        title, chunks = self._chunk(path, kind, data)
        if not chunks:
            raise DocumentError(
                f"{path.name} has no text to index; it was skipped", fix="check the file"
            )
        texts = [_embedding_text(title, c) for c in chunks]
        known = self.store.vectors_by_text(old.id) if old is not None else {}
        return _Pending(path, source, kind, title, digest, chunks, texts, known,
                        replaces=old is not None)  # fmt: skip

    def _embed_pending(self, pending: list[_Pending], progress: IndexProgress | None) -> None:
        """Embed, in one batched call, every chunk text no stored vector covers."""
        todo = sorted({t for p in pending for t in p.texts if _text_key(t) not in p.known})
        report = None
        if progress is not None:
            report = lambda done, total: progress(done, total, "chunks embedded")  # noqa: E731
        fresh = dict(zip(todo, self.embedder.embed(todo, report), strict=True)) if todo else {}
        for item in pending:
            rows = []
            for text in item.texts:
                stored = item.known.get(_text_key(text))
                if stored is not None and text not in fresh:
                    item.reused += 1
                    rows.append(stored)
                else:
                    rows.append(fresh[text])
            item.vectors = np.stack(rows).astype(np.float32)

    def _read(self, path: Path) -> bytes:
        size = path.stat().st_size
        if size > self.limits.max_bytes:
            raise DocumentError(
                f"{path.name} is {size / 1e6:.1f} MB, over the "
                f"{self.limits.max_bytes / 1e6:.0f} MB limit for one document; it was skipped",
                fix="split it into smaller files",
            )
        return path.read_bytes()

    def _chunk(self, path: Path, kind: str, data: bytes) -> tuple[str, list[Chunk]]:
        if kind == "pdf":
            pages = pdf_pages(path, self.limits)
            return path.stem, chunk_pages(pages)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")  # old text exports; every byte maps to a char
        if len(text) > self.limits.max_text_chars:
            raise DocumentError(
                f"{path.name} has {len(text):,} characters, over the limit of "
                f"{self.limits.max_text_chars:,}; it was skipped",
                fix="split it into smaller files",
            )
        found, chunks = chunk_markdown(text) if kind == "markdown" else chunk_plain(text)
        return found or path.stem, chunks

    def remove(self, name_or_path: str) -> int:
        """Remove documents by file name or path; return how many were removed."""
        matches = [
            d
            for d in self.store.documents()
            if name_or_path in (d.name, d.source) or str(Path(name_or_path).resolve()) == d.source
        ]
        if not matches:
            raise UsageError(
                f"no indexed document {name_or_path!r}",
                fix="`plantagent docs list` shows the indexed documents",
            )
        return sum(self.store.remove_document(d.source) for d in matches)

    def documents(self) -> list[DocumentRow]:
        """The indexed documents."""
        return self.store.documents()

    def search(self, query: str, *, k: int = 5, mode: SearchMode = "hybrid") -> list[SearchHit]:
        """The ``k`` best passages for ``query``, each with its citation."""
        if not query.strip():
            raise UsageError("the search query is empty", fix="give some words to search for")
        return search(self.store, self.embedder, query, k=k, mode=mode)


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class _Pending:
    """A changed file, chunked, waiting for its vectors."""

    path: Path
    source: str
    kind: str
    title: str
    digest: str
    chunks: list[Chunk]
    texts: list[str]
    known: dict[str, np.ndarray]  # sha256 of an embedding text -> its stored vector
    replaces: bool
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    reused: int = 0


def _embedding_text(title: str, chunk: Chunk) -> str:
    # The heading path gives a chunk its context ("Troubleshooting > Bearing wear").
    return embedding_text(title, chunk.section, chunk.text)
