"""Retrieval recall evaluation: does the expected section come back in the top k?

The evaluation set is a JSON file of queries, each with the document (file name) and a
prefix of the section path that answers it. recall@k is the share of queries for which
one of the first k hits is from that document and section.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from agent.twin.documents.index import DocumentIndex
from agent.twin.documents.search import SearchMode

MODES: tuple[SearchMode, ...] = ("fts", "vector", "hybrid")


@dataclass(frozen=True)
class EvalQuery:
    """One query and where its answer is."""

    query: str
    document: str
    section: str


@dataclass(frozen=True)
class EvalResult:
    """Recall of one mode, and the queries it missed."""

    mode: SearchMode
    k: int
    hits: int
    total: int
    missed: tuple[str, ...]

    @property
    def recall(self) -> float:
        """Share of queries answered within the top k."""
        return self.hits / self.total if self.total else 0.0


def load_eval_set(path: Path) -> list[EvalQuery]:
    """The queries of an evaluation file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [EvalQuery(q["query"], q["document"], q["section"]) for q in data["queries"]]


def evaluate(
    index: DocumentIndex,
    queries: list[EvalQuery],
    *,
    ks: tuple[int, ...] = (5,),
    modes: tuple[SearchMode, ...] = MODES,
) -> list[EvalResult]:
    """recall@k of each mode over ``queries``, for each k in ``ks`` (mode-major order)."""
    results = []
    for mode in modes:
        ranks = [_rank(index, q, mode, max(ks)) for q in queries]
        for k in ks:
            missed = tuple(
                q.query for q, r in zip(queries, ranks, strict=True) if r is None or r > k
            )
            results.append(EvalResult(mode, k, len(queries) - len(missed), len(queries), missed))
    return results


def _rank(index: DocumentIndex, q: EvalQuery, mode: SearchMode, k: int) -> int | None:
    """1-based rank of the first hit from the expected section, or None."""
    for rank, hit in enumerate(index.search(q.query, k=k, mode=mode), start=1):
        if hit.chunk.document == q.document and hit.chunk.section.startswith(q.section):
            return rank
    return None


def format_table(results: list[EvalResult]) -> str:
    """A plain-text table of the results."""
    ks = sorted({r.k for r in results})
    modes = list(dict.fromkeys(r.mode for r in results))
    by = {(r.mode, r.k): r for r in results}
    lines = [f"{'mode':8}" + "".join(f"{'recall@' + str(k):>12}" for k in ks)]
    for mode in modes:
        cells = "".join(
            f"{by[mode, k].recall:>6.3f} ({by[mode, k].hits:>2}/{by[mode, k].total})" for k in ks
        )
        lines.append(f"{mode:8}{cells}")
    return "\n".join(lines)
