"""Building the alarm desk, in one place (the composition root can take it over whole).

- :func:`desk_for_session`: the desk over an open agent session (the service and the
  terminal UI);
- :func:`open_alarm_desk`: a desk of its own for one command, without loading the model:
  site, audit log, policy, plant connection and catalog only;
- :func:`start_journal`: the site's alarm journal over a session's event log (the
  service runs it while it is open).

The alarm tools live in their own registry: they are the desk's, never offered to the
model (the model proposes; people act on alarms, and triage only suggests a shelve).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from agent.alarms.desk import AlarmDesk
from agent.alarms.journal import AlarmJournal
from agent.alarms.shelving import ShelveService
from agent.alarms.store import DATABASE_NAME, AlarmStore
from agent.audit.log import AuditLog
from agent.audit.site import open_audit_log
from agent.compose import AgentSession, guard_egress
from agent.errors import OpcUaError
from agent.policy import PolicyEngine, load_policy
from agent.settings import Settings
from agent.vault import Site, open_site
from tools.context import ToolContext, utcnow
from tools.opcua import alarm_actions
from tools.opcua.alarms import event_log
from tools.opcua.browse import browse_catalog
from tools.opcua.client import OpcUaConnection
from tools.registry import ToolRegistry


@dataclass
class AlarmSession:
    """A desk with what it holds open (for one command)."""

    desk: AlarmDesk
    store: AlarmStore
    site: Site
    audit: AuditLog
    connection: OpcUaConnection
    settings: Settings


def alarm_registry() -> ToolRegistry:
    """The alarm action tools."""
    registry = ToolRegistry()
    alarm_actions.register(registry)
    return registry


def build_desk(
    *, store: AlarmStore, engine: PolicyEngine, audit: AuditLog, context: ToolContext,
    clock: Callable[[], datetime] = utcnow,
) -> AlarmDesk:
    """The desk from its parts (tests build it the same way)."""
    registry = alarm_registry()
    shelving = ShelveService(store, engine.policy, engine, audit, context, registry,
                             clock=clock)
    return AlarmDesk(gate=engine, audit=audit, context=context, registry=registry,
                     policy=engine.policy.alarms, shelving=shelving, clock=clock)


def open_store(site: Site) -> AlarmStore:
    """The site's alarm database."""
    return AlarmStore.open(lambda: site.database(DATABASE_NAME, synchronous_full=True))


def desk_for_session(session: AgentSession) -> AlarmDesk:
    """The desk over an open agent session."""
    return build_desk(store=open_store(session.site), engine=session.engine,
                      audit=session.audit, context=session.agent.deps.tool_context)


async def start_journal(session: AgentSession) -> AlarmJournal | None:
    """The site's alarm journal recording from the session's event log (None when the
    settings turn it off or the server cannot be subscribed to now)."""
    settings = session.agent.deps.tool_context.settings
    if not settings.alarms.journal:
        return None
    try:
        log = await event_log(session.connection, session.agent.deps.catalog)
    except OpcUaError:
        return None
    journal = AlarmJournal(open_store(session.site), log, endpoint=session.connection.endpoint)
    await journal.start()
    return journal


@asynccontextmanager
async def open_alarm_desk(
    settings: Settings, *, endpoint: str | None = None, passphrase: str | None = None,
    browse: bool = True,
) -> AsyncIterator[AlarmSession]:
    """Unlock the site, open the audit log, load the policy, connect (and browse); no
    model. Everything is closed on exit."""
    async with AsyncExitStack() as stack:
        site = stack.enter_context(open_site(settings, passphrase=passphrase))
        audit = open_audit_log(site)
        stack.callback(audit.close)
        policy = load_policy(settings.home).policy
        guard_egress(settings, policy, audit)
        connection = await stack.enter_async_context(
            OpcUaConnection.from_settings(settings, endpoint))
        catalog = await browse_catalog(connection) if browse else None
        context = ToolContext(settings=settings, opcua=connection, catalog=catalog)
        store = open_store(site)
        desk = build_desk(store=store, engine=PolicyEngine(policy), audit=audit,
                          context=context)
        yield AlarmSession(desk, store, site, audit, connection, settings)
