"""Opening everything a triage run needs from settings: site, audit log, connection,
catalog, knowledge, and (optionally) the local model as report writer."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager
from dataclasses import dataclass

from agent.audit import AuditLog
from agent.audit.site import open_audit_log
from agent.compose import SiteBlobStore, guard_egress
from agent.errors import ModelError
from agent.llm.factory import build_chat_model, expected_model
from agent.policy import load_policy
from agent.qualification.gate import ensure_qualified
from agent.settings import Settings
from agent.triage.compose import build_service, open_knowledge
from agent.triage.service import TriageService
from agent.triage.writer import ModelWriter, ReportWriter, TemplateWriter
from agent.vault import Site, open_site
from tools.opcua.alarms import event_log
from tools.opcua.browse import browse_catalog
from tools.opcua.client import OpcUaConnection


@dataclass
class TriageSession:
    """An open triage service and what it holds."""

    service: TriageService
    site: Site
    audit: AuditLog
    writer: str


@asynccontextmanager
async def open_triage(
    settings: Settings, *, endpoint: str | None = None, use_model: bool = True,
    events: bool = False,
) -> AsyncIterator[TriageSession]:
    """Unlock the site, connect, browse and build the service; close it all on exit.

    Without a usable local model the deterministic writer is used (and said so).
    """
    async with AsyncExitStack() as stack:
        site = stack.enter_context(open_site(settings))
        audit = open_audit_log(site)
        stack.callback(audit.close)
        policy = load_policy(settings.home).policy
        guard_egress(settings, policy, audit)
        conn = await stack.enter_async_context(OpcUaConnection.from_settings(settings, endpoint))
        catalog = await browse_catalog(conn)
        sync = stack.enter_context(ExitStack())
        incidents, documents = open_knowledge(settings, site, sync)
        writer: ReportWriter = TemplateWriter()
        name = "template"
        if use_model:
            # A model the policy has not qualified is refused here as in open_agent.
            ensure_qualified(policy.qualification, settings.home, *expected_model(settings))
            try:
                model = await asyncio.to_thread(build_chat_model, settings, SiteBlobStore(site))
            except ModelError as exc:
                print(f"  ... no local model ({exc.message}); using the template writer",
                      file=sys.stderr)
            else:
                stack.callback(model.close)
                writer = ModelWriter(model, tag_names=catalog.tag_names(),
                                     equipment_names=catalog.equipment_names())
                name = f"model:{model.info.name}"
        log = await event_log(conn, catalog) if events else None
        service = build_service(settings, site, conn, catalog, audit=audit, writer=writer,
                                incidents=incidents, documents=documents, events=log)
        yield TriageSession(service, site, audit, name)
