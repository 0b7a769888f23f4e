"""Hybrid retrieval over the document index: bm25 and vectors, fused by reciprocal rank.

Full-text search finds exact words (tag names, part numbers, "6309 C3"); vector search
finds the same meaning in other words ("pump shaking" for "vibration"). Reciprocal rank
fusion (Cormack et al., 2009) adds 1 / (K + rank) over both lists; it needs no score
calibration between the two, which is why it is used here. K = 60 as in the paper.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from agent.twin.documents.store import ChunkRow, DocumentStore
from agent.twin.embeddings.runtime import Embedder

SearchMode = Literal["hybrid", "fts", "vector"]
RRF_K = 60
#: How many candidates each retriever contributes before fusion.
CANDIDATES = 50

# Text that speaks to an AI agent instead of to people: flagged so the model (and the
# person reading) see that a passage tries to give instructions. It is still returned,
# quoted, as what the document says.
_INSTRUCTION_PATTERNS = re.compile(
    r"ignore (all |any )?(previous|prior|above) instructions"
    r"|\b(ai|llm) (agent|assistant|model)s?\b"
    r"|\bsystem (prompt|notice|message)\b"
    r"|\byou are now\b"
    r"|\bdo not (mention|tell|reveal)\b"
    r"|\boverride mode\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SearchHit:
    """One retrieved chunk with its citation and how each retriever ranked it."""

    chunk: ChunkRow
    score: float
    fts_rank: int | None
    vector_rank: int | None
    similarity: float | None

    @property
    def citation(self) -> str:
        """Document, section and line range, e.g. ``M.md §4.1 Bearing wear, lines 61-80``."""
        section = self.chunk.section or "introduction"
        return (
            f"{self.chunk.document} §{section}, lines {self.chunk.line_start}-{self.chunk.line_end}"
        )

    @property
    def suspected_instructions(self) -> bool:
        """True if the passage contains text addressed to an AI agent."""
        return looks_like_instructions(self.chunk.text)


def looks_like_instructions(text: str) -> bool:
    """True if ``text`` contains phrases that try to instruct an AI agent."""
    return _INSTRUCTION_PATTERNS.search(text) is not None


def search(
    store: DocumentStore,
    embedder: Embedder | None,
    query: str,
    *,
    k: int = 5,
    mode: SearchMode = "hybrid",
) -> list[SearchHit]:
    """The ``k`` best chunks for ``query``, best first (blocking)."""
    fts_ids: list[int] = []
    vec_hits: list[tuple[int, float]] = []
    if mode in ("hybrid", "fts"):
        fts_ids = store.search_fts(query, CANDIDATES)
    if mode in ("hybrid", "vector") and embedder is not None:
        vector = embedder.embed([query])[0]
        vec_hits = store.search_vectors(vector, CANDIDATES)
    fts_rank = {cid: rank for rank, cid in enumerate(fts_ids, start=1)}
    vec_rank = {cid: rank for rank, (cid, _) in enumerate(vec_hits, start=1)}
    similarity = dict(vec_hits)
    scores: dict[int, float] = {}
    for ranks in (fts_rank, vec_rank):
        for cid, rank in ranks.items():
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (RRF_K + rank)
    best = sorted(scores, key=lambda cid: (-scores[cid], cid))[:k]
    rows = store.chunks(best)
    return [
        SearchHit(rows[cid], scores[cid], fts_rank.get(cid), vec_rank.get(cid), similarity.get(cid))
        for cid in best
        if cid in rows
    ]


def snippet(text: str, query: str, max_chars: int = 480) -> str:
    """The paragraph of ``text`` sharing most words with ``query``, cut to ``max_chars``.

    The heading line leads if it fits, so the snippet says where it comes from.
    """
    words = {w for w in re.findall(r"\w+", query.lower()) if len(w) > 2}
    first, _, rest = text.strip().partition("\n")
    heading = first if first.startswith("#") else ""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", rest if heading else text)]
    body = [p for p in paragraphs if p] or [heading]
    best = max(
        body, key=lambda p: (len(words & set(re.findall(r"\w+", p.lower()))), -body.index(p))
    )
    out = best if not heading or best == heading else f"{heading}\n{best}"
    return out if len(out) <= max_chars else out[: max_chars - 1].rstrip() + "…"
