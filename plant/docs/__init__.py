"""The demo plant's manuals and runbooks (package data: Markdown and text files).

Indexed into the twin's document index by ``plantagent docs add --demo``.
``retrieval_eval.json`` holds the queries of the retrieval recall evaluation
(harness/evals/retrieval_run.py); it is not a document.
"""

from __future__ import annotations

from pathlib import Path

DOCUMENT_SUFFIXES = (".md", ".txt")


def docs_dir() -> Path:
    """The folder holding the demo documents."""
    return Path(__file__).parent


def demo_documents() -> list[Path]:
    """The demo documents, sorted by name."""
    return sorted(p for p in docs_dir().iterdir() if p.suffix in DOCUMENT_SUFFIXES)


def retrieval_eval_path() -> Path:
    """The retrieval evaluation set: queries with the expected document and section."""
    return docs_dir() / "retrieval_eval.json"
