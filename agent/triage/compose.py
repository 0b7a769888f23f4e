"""Builds the triage service from its parts; the CLI, the eval and the tests share it."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime

from agent.audit import AuditSink
from agent.errors import ModelError
from agent.settings import Settings
from agent.triage.playbook import Playbook
from agent.triage.service import TriageService
from agent.triage.store import REPORTS_DATABASE, ReportStore
from agent.triage.watcher import Watcher, WatchRules
from agent.triage.writer import ReportWriter, TemplateWriter
from agent.twin.documents.index import DocumentIndex
from agent.twin.incidents.memory import IncidentMemory
from agent.vault import Site
from tools.context import utcnow
from tools.opcua.alarms import EventLog
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection

TWIN_DATABASE = "twin"


def open_knowledge(
    settings: Settings, site: Site, stack: ExitStack
) -> tuple[IncidentMemory | None, DocumentIndex | None]:
    """Incident memory and runbooks when the site has them (and an embedding model)."""
    from agent.twin.embeddings.runtime import load_embedder

    try:
        embedder = load_embedder(settings, assemble=False)
    except ModelError:
        return None, None
    stack.callback(embedder.close)
    conn = site.database(TWIN_DATABASE)
    documents = DocumentIndex(conn, embedder)
    incidents = IncidentMemory(conn, embedder)
    return (incidents if incidents.count() else None,
            documents if documents.documents() else None)


def build_service(
    settings: Settings,
    site: Site,
    conn: OpcUaConnection,
    catalog: Catalog,
    *,
    audit: AuditSink | None = None,
    writer: ReportWriter | None = None,
    incidents: IncidentMemory | None = None,
    documents: DocumentIndex | None = None,
    events: EventLog | None = None,
    rules: WatchRules | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> TriageService:
    """A triage service over an open connection and site."""
    rules = rules or WatchRules.from_settings(settings.triage)
    store = ReportStore(site.database(REPORTS_DATABASE))
    watcher = Watcher(conn, catalog, settings.opcua, clock=clock, rules=rules, events=events)
    playbook = Playbook(conn, catalog, settings.opcua, clock, audit=audit, incidents=incidents,
                        documents=documents, writer=writer or TemplateWriter(),
                        lookback=rules.lookback)
    return TriageService(watcher, playbook, store, audit)
