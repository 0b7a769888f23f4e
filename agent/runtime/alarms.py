"""The alarm desk and the alarm journal, built from the site runtime.

- :func:`build_desk`: the desk from its parts (the runtime, and tests, build it so);
- :func:`open_alarm_desk`: a runtime of its own for one command, without loading the
  model: site, audit log, policy, plant connection and catalog only.

The alarm tools live in their own registry: they are the desk's, never offered to the
model (the model proposes; people act on alarms, and triage only suggests a shelve).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from agent.alarms.desk import AlarmDesk
from agent.alarms.shelving import ShelveService
from agent.alarms.store import DATABASE_NAME, AlarmStore
from agent.audit.log import AuditLog
from agent.people.identity import Acting, Asker
from agent.people.register import PeopleRegister
from agent.policy import PolicyEngine
from agent.settings import Settings
from agent.vault import Site
from tools.context import ToolContext, utcnow
from tools.opcua import alarm_actions
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
    #: The enrolled person of the OS account, key unlocked (SiteRuntime.acting).
    acting: Callable[..., Acting]
    #: Who acts on an alarm without signing: the enrolled person of the OS account, the
    #: settings' user only where nobody is enrolled (SiteRuntime.asker).
    asker: Callable[..., Asker]


def alarm_registry() -> ToolRegistry:
    """The alarm action tools."""
    registry = ToolRegistry()
    alarm_actions.register(registry)
    return registry


def build_desk(
    *, store: AlarmStore, engine: PolicyEngine, audit: AuditLog, context: ToolContext,
    people: PeopleRegister | None = None, clock: Callable[[], datetime] = utcnow,
) -> AlarmDesk:
    """The desk from its parts (tests build it the same way)."""
    registry = alarm_registry()
    shelving = ShelveService(store, engine.policy, engine, audit, context, registry,
                             people=people, clock=clock)
    return AlarmDesk(gate=engine, audit=audit, context=context, registry=registry,
                     policy=engine.policy.alarms, shelving=shelving, clock=clock)


def open_store(site: Site) -> AlarmStore:
    """The site's alarm database."""
    return AlarmStore.open(lambda: site.database(DATABASE_NAME, synchronous_full=True))


@asynccontextmanager
async def open_alarm_desk(
    settings: Settings, *, endpoint: str | None = None, passphrase: str | None = None,
    browse: bool = True,
) -> AsyncIterator[AlarmSession]:
    """A site runtime for one alarm command: unlock the site, open the audit log, load the
    policy, connect (and browse); no model. Everything is closed on exit."""
    from agent.runtime.site_runtime import SiteRuntime

    async with SiteRuntime(settings, endpoint=endpoint, passphrase=passphrase) as runtime:
        desk = await runtime.alarm_desk(browse=browse)
        yield AlarmSession(desk, runtime.alarm_store, runtime.site, runtime.audit,
                           await runtime.connection(), settings, runtime.acting,
                           runtime.asker)
