"""Documents and incidents live in the site's encrypted twin database, nowhere else."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import UsageError
from agent.runtime import SiteRuntime
from agent.settings import load_settings
from agent.twin.documents.index import DocumentIndex
from agent.twin.embeddings.runtime import LlamaEmbedder
from agent.twin.incidents.memory import IncidentMemory
from agent.twin.incidents.records import IncidentRecord
from agent.vault.layout import TWIN_DATABASE
from tests.support.sites import new_site

MARKER = "ZEBRAFISH-7731-marker"


def test_documents_and_incidents_are_encrypted_at_rest(
    tmp_path: Path, embedder: LlamaEmbedder
) -> None:
    home = new_site(tmp_path / "site")
    doc = tmp_path / "secret_procedure.md"
    doc.write_text(f"# Procedure\n\n## Step\n\nThe bypass code word is {MARKER}.\n", "utf-8")
    record = IncidentRecord.model_validate(
        {
            "id": "WO-9",
            "title": f"incident {MARKER}",
            "equipment": ["P-101"],
            "fault_mode": "bearing_wear",
            "opened_at": "2025-01-01T00:00:00Z",
            "downtime_h": 1,
            "symptoms": f"noise near {MARKER}",
        }
    )
    settings = load_settings(home=home)
    with SiteRuntime(settings, embedder=embedder) as runtime:
        conn = runtime.twin_database
        index = DocumentIndex(conn, embedder)
        assert index.add_paths([doc])[0].status == "added"
        IncidentMemory(conn, embedder).load([record])
        assert MARKER in index.search(MARKER, k=1)[0].chunk.text
        db_path = runtime.site.database_path(TWIN_DATABASE)
    files = [p for p in db_path.parent.iterdir() if p.is_file()]
    assert db_path in files
    for path in files:
        raw = path.read_bytes()
        assert MARKER.encode() not in raw, path
        assert b"SQLite format 3" not in raw[:16], path
    # Reopened with the site's key, everything is still there.
    with SiteRuntime(settings, embedder=embedder) as runtime:
        knowledge = runtime.knowledge  # what the agent and triage are given
        assert knowledge.documents is not None and knowledge.incidents is not None
        assert MARKER in knowledge.documents.search("bypass code word", k=1)[0].chunk.text


def test_a_different_embedding_model_is_refused_until_reindexed(
    tmp_path: Path, embedder: LlamaEmbedder
) -> None:
    from .twin_docs_helpers import new_db

    conn, _ = new_db(tmp_path / "twin.db")
    DocumentIndex(conn, embedder).store.ensure_vectors(embedder.model_name, embedder.dim)
    with pytest.raises(UsageError, match="docs reindex"):
        DocumentIndex(conn, embedder).store.ensure_vectors("other-model", 768)
    conn.close()
