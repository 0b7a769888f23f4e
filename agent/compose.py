"""The composition root: builds a ready agent from settings, in one place.

The CLI, the terminal UI and the tests all build the agent here; tests inject their own
parts (a scripted model, a site in a temporary directory) through the same arguments.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from agent.audit import AuditLog
from agent.audit.site import open_audit_log
from agent.llm.base import ChatModel
from agent.llm.factory import build_chat_model
from agent.loop.policy_gate import PolicyGate, ReadOnlyGate
from agent.loop.runner import Agent, AgentDeps
from agent.settings import Settings
from agent.vault import Site, install_egress_guard, open_site
from tools import limits
from tools import opcua as opcua_tools
from tools.context import ToolContext
from tools.opcua.browse import browse_catalog
from tools.opcua.client import OpcUaConnection
from tools.registry import ToolRegistry


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


@dataclass
class AgentSession:
    """An agent with everything it holds open; close it with the context manager."""

    agent: Agent
    site: Site
    audit: AuditLog
    connection: OpcUaConnection
    model: ChatModel


def build_registry() -> ToolRegistry:
    """Every tool the agent may call (the policy decides who may call which)."""
    registry = ToolRegistry()
    opcua_tools.register(registry)
    limits.register(registry)
    return registry


def guard_egress(settings: Settings, audit: AuditLog | None) -> None:
    """Refuse connections off site: loopback and the configured site networks only."""

    def refused(address: str, detail: object) -> None:
        if audit is not None:
            audit.append("egress_refused", "plantagent", {"address": address,
                                                           "detail": str(detail)})

    install_egress_guard(list(settings.network.allowlist), refused)


@asynccontextmanager
async def open_agent(
    settings: Settings,
    *,
    endpoint: str | None = None,
    model: ChatModel | None = None,
    policy: PolicyGate | None = None,
    passphrase: str | None = None,
    plant_name: str = "the plant",
) -> AsyncIterator[AgentSession]:
    """Unlock the site, open the audit log, connect and browse, load the model.

    Parts given as arguments are used as they are (tests pass a ScriptedModel); the rest
    is built from ``settings``. Everything opened here is closed on exit.
    """
    async with AsyncExitStack() as stack:
        site = stack.enter_context(open_site(settings, passphrase=passphrase))
        audit = open_audit_log(site)
        stack.callback(audit.close)
        guard_egress(settings, audit)
        connection = await stack.enter_async_context(
            OpcUaConnection.from_settings(settings, endpoint)
        )
        catalog = await browse_catalog(connection)
        if model is None:
            model = await asyncio.to_thread(build_chat_model, settings, SiteBlobStore(site))
            stack.callback(model.close)
        context = ToolContext(settings=settings, opcua=connection, catalog=catalog)
        deps = AgentDeps(
            model=model,
            registry=build_registry(),
            tool_context=context,
            policy=policy or ReadOnlyGate(),
            audit=audit,
            plant_name=plant_name,
            max_steps=settings.agent.max_steps,
            time_budget_s=settings.agent.time_budget_s,
        )
        yield AgentSession(Agent(deps), site, audit, connection, model)


def session_summary(session: AgentSession) -> dict[str, Any]:
    """What the session runs on, for status lines and --json output."""
    return {
        "model": session.model.info.name,
        "model_sha256": session.model.info.sha256,
        "endpoint": session.connection.endpoint,
        "tags": len(session.agent.deps.catalog),
        "site": str(session.site.home),
    }
