"""Building the triage service from the parts the runtime opened."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from agent.audit import AuditSink
from agent.runtime.stores import Knowledge
from agent.settings import Settings
from agent.triage.library import load_library
from agent.triage.playbook import Playbook
from agent.triage.service import TriageService
from agent.triage.store import ReportStore
from agent.triage.watcher import Watcher, WatchRules
from agent.triage.writer import ReportWriter
from agent.twin.assets.file import assets_path, load_assets_file
from agent.twin.coupling.relations import infer_coupling
from agent.twin.semantics.infer import cached
from tools.opcua.alarms import EventLog
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection


def build_triage(
    settings: Settings,
    *,
    connection: OpcUaConnection,
    catalog: Catalog,
    reports: ReportStore,
    audit: AuditSink,
    writer: ReportWriter,
    knowledge: Knowledge,
    events: EventLog | None,
    rules: WatchRules | None,
    clock: Callable[[], datetime],
) -> TriageService:
    """The watcher (the site's rules unless ``rules``), the playbook with the site's fault
    library (shipped + ``$PLANTAGENT_HOME/faults``) and couplings (the site file's, else
    the plant's structure), and the store."""
    rules = rules or WatchRules.from_settings(settings.triage)
    path = assets_path(settings.home)
    assets = load_assets_file(path) if path.exists() else None
    coupling = infer_coupling(cached(catalog), catalog, assets)
    watcher = Watcher(connection, catalog, settings.opcua, clock=clock, rules=rules,
                      events=events)
    playbook = Playbook(connection, catalog, settings.opcua, clock, audit=audit,
                        incidents=knowledge.incidents, documents=knowledge.documents,
                        writer=writer, library=load_library(settings.home),
                        coupling=coupling, lookback=rules.lookback)
    return TriageService(watcher, playbook, reports, audit)
