"""Building the triage service from the parts the runtime opened."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from agent.audit import AuditSink
from agent.runtime.stores import Knowledge
from agent.settings import Settings
from agent.triage.playbook import Playbook
from agent.triage.service import TriageService
from agent.triage.store import ReportStore
from agent.triage.watcher import Watcher, WatchRules
from agent.triage.writer import ReportWriter
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
    """The watcher (the site's rules unless ``rules``), the playbook and the store."""
    rules = rules or WatchRules.from_settings(settings.triage)
    watcher = Watcher(connection, catalog, settings.opcua, clock=clock, rules=rules,
                      events=events)
    playbook = Playbook(connection, catalog, settings.opcua, clock, audit=audit,
                        incidents=knowledge.incidents, documents=knowledge.documents,
                        writer=writer, lookback=rules.lookback)
    return TriageService(watcher, playbook, reports, audit)
