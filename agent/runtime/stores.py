"""The site's stores as the runtime opens them: the twin's, its knowledge, the blobs."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import apsw

from agent.twin.assets.store import AssetModel
from agent.twin.documents.index import DocumentIndex
from agent.twin.embeddings.runtime import Embedder
from agent.twin.historian.store import Historian
from agent.twin.incidents.memory import IncidentMemory
from agent.vault import Site


@dataclass
class TwinStores:
    """The asset model and the historian on the site's one twin connection. They share
    one writer lock: the recorder and the tools write from worker threads."""

    conn: apsw.Connection
    assets: AssetModel
    historian: Historian


def open_twin_stores(conn: apsw.Connection) -> TwinStores:
    """The twin's stores on ``conn`` (their tables migrated)."""
    lock = threading.Lock()
    return TwinStores(conn, AssetModel(conn, lock=lock), Historian(conn, lock=lock))


@dataclass
class Knowledge:
    """Manuals and incident memory, each only when the site has indexed some
    (``plantagent docs add``, ``plantagent incidents load``): their tools and triage's
    look-ups are offered only then."""

    documents: DocumentIndex | None = None
    incidents: IncidentMemory | None = None


def open_knowledge(conn: apsw.Connection, embedder: Embedder | None) -> Knowledge:
    """What the site has indexed with ``embedder`` (nothing without an embedding model)."""
    if embedder is None:
        return Knowledge()
    documents = DocumentIndex(conn, embedder)
    incidents = IncidentMemory(conn, embedder)
    return Knowledge(documents if documents.documents() else None,
                     incidents if incidents.count() else None)


class SiteBlobStore:
    """The LLM runtime's BlobStore over the site's encrypted blobs (prefix KV state)."""

    def __init__(self, site: Site) -> None:
        self.site = site

    def put(self, name: str, data: bytes) -> None:
        """Store encrypted under ``name``."""
        self.site.put_blob(name, data)

    def get(self, name: str) -> bytes | None:
        """Decrypt and return the blob, or None."""
        return self.site.get_blob(name)
