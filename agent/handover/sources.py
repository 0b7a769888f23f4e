"""What a handover reads and who it is written for: built by the site runtime
(``SiteRuntime.shift_sources()``), or by a test from its own parts."""

from __future__ import annotations

from dataclasses import dataclass

from agent.alarms.store import AlarmStore
from agent.approvals import ApprovalService
from agent.audit import AuditLog
from agent.llm.base import ChatModel
from agent.policy.models import AlarmsPolicy
from agent.settings import Settings
from agent.triage.store import ReportStore
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection


@dataclass
class ShiftSources:
    """The audit log, approvals and triage reports of the site, the plant's connection
    and catalog, the model that phrases the lines (an UnloadedModel when none is), and
    the settings (the person the handover is recorded for)."""

    audit: AuditLog
    approvals: ApprovalService
    reports: ReportStore | None
    connection: OpcUaConnection
    catalog: Catalog
    model: ChatModel
    settings: Settings
    plant_name: str = "the plant"
    #: The site's alarm journal and shelve requests, and the policy's alarm rules: the
    #: shift's alarm load (None: that fact is left out).
    alarm_store: AlarmStore | None = None
    alarms_policy: AlarmsPolicy | None = None
