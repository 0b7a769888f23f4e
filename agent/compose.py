"""The composition root: builds a ready agent from settings, in one place.

The CLI, the terminal UI and the tests all build the agent here; tests inject their own
parts (a scripted model, a site in a temporary directory) through the same arguments.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from agent.approvals import ApprovalService, ApprovalStore
from agent.audit import AuditLog
from agent.audit.site import open_audit_log
from agent.errors import ModelError
from agent.llm.base import ChatModel
from agent.llm.factory import build_chat_model, expected_model
from agent.pipeline.runner import Agent, AgentDeps, QuestionLimits
from agent.policy import Policy, PolicyEngine, load_policy
from agent.policy.decision import PolicyGate
from agent.qualification.gate import ensure_qualified
from agent.settings import Settings
from agent.twin.assets.store import AssetModel
from agent.twin.documents.index import DocumentIndex
from agent.twin.embeddings.runtime import load_embedder
from agent.twin.historian.store import Historian
from agent.twin.incidents.memory import IncidentMemory
from agent.vault import Site, install_egress_guard, open_site
from tools import documents as documents_tools
from tools import fixes, limits
from tools import history as historian_tools
from tools import incidents as incidents_tools
from tools import opcua as opcua_tools
from tools import whatif as whatif_tools
from tools.context import ToolContext
from tools.opcua.browse import browse_catalog
from tools.opcua.client import OpcUaConnection
from tools.registry import ToolRegistry

TWIN_DATABASE = "twin"
APPROVALS_DATABASE = "approvals"


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
    engine: PolicyEngine
    approvals: ApprovalService


def guard_egress(settings: Settings, policy: Policy, audit: AuditLog | None) -> None:
    """Refuse connections off site: loopback plus the site networks that the policy and
    the settings name."""

    def refused(address: str, detail: object) -> None:
        if audit is not None:
            audit.append("egress_refused", "plantagent",
                         {"address": address, "detail": str(detail)})

    allowlist = [*policy.network.allowlist, *settings.network.allowlist]
    install_egress_guard(allowlist, refused)


def _policy_limits(engine: PolicyEngine, settings: Settings) -> Any:
    """Per-question gate and budget of a role: the policy's, lowered by the settings."""

    def for_role(role: str) -> QuestionLimits:
        budget = engine.capped_budget(
            role, max_steps=settings.agent.max_steps, time_budget_s=settings.agent.time_budget_s
        )
        return QuestionLimits(
            gate=engine.question_gate(role),
            max_steps=budget.max_steps,
            time_budget_s=budget.seconds_per_question,
        )

    return for_role


def _open_knowledge(
    settings: Settings, site: Site, context: ToolContext, registry: ToolRegistry,
    stack: AsyncExitStack,
) -> None:
    """Manuals and incident memory, when the site has indexed them (``plantagent docs add``,
    ``plantagent incidents load``): their tools are offered only then."""
    conn = site.database(TWIN_DATABASE)
    try:
        embedder = load_embedder(settings, assemble=False)
    except ModelError:
        return  # no embedding model on this site yet: no document tools
    stack.callback(embedder.close)
    documents = DocumentIndex(conn, embedder)
    if documents.documents():
        context.documents = documents
        documents_tools.register(registry)
    incidents = IncidentMemory(conn, embedder)
    if incidents.count():
        context.incidents = incidents
        incidents_tools.register(registry)


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
    """Unlock the site, open the audit log, load the policy, connect and browse, load the
    model, and offer every tool the site has the data for.

    Parts given as arguments are used as they are (tests pass a ScriptedModel); the rest
    is built from ``settings``. Everything opened here is closed on exit. A broken policy
    file stops here with a ConfigError; it never falls back to allowing everything.
    """
    async with AsyncExitStack() as stack:
        site = stack.enter_context(open_site(settings, passphrase=passphrase))
        audit = open_audit_log(site)
        stack.callback(audit.close)
        loaded_policy = load_policy(settings.home).policy
        guard_egress(settings, loaded_policy, audit)
        approvals = ApprovalService(
            ApprovalStore.open(
                lambda: site.database(APPROVALS_DATABASE, synchronous_full=True)
            ),
            loaded_policy,
            audit,
        )
        connection = await stack.enter_async_context(
            OpcUaConnection.from_settings(settings, endpoint)
        )
        twin_lock = threading.Lock()  # one writer at a time on the shared twin connection
        twin = site.database(TWIN_DATABASE)
        context = ToolContext(
            settings=settings,
            opcua=connection,
            catalog=await browse_catalog(connection),
            historian=Historian(twin, lock=twin_lock),
            assets=AssetModel(twin, lock=twin_lock),
        )
        engine = PolicyEngine(loaded_policy)
        registry = ToolRegistry()
        opcua_tools.register(registry)
        limits.register(registry)
        historian_tools.register(registry)
        whatif_tools.register(registry)
        fixes.register(registry, loaded_policy)
        _open_knowledge(settings, site, context, registry, stack)
        if model is None:
            # Refused before the (slow) load when the policy wants a qualified model.
            ensure_qualified(loaded_policy.qualification, settings.home,
                             *expected_model(settings))
            model = await asyncio.to_thread(build_chat_model, settings, SiteBlobStore(site))
            stack.callback(model.close)
        else:
            ensure_qualified(loaded_policy.qualification, settings.home, model.info.name,
                             model.info.sha256)
        deps = AgentDeps(
            model=model,
            registry=registry,
            tool_context=context,
            policy=policy or engine,
            audit=audit,
            approvals=approvals,
            plant_name=plant_name,
            max_steps=settings.agent.max_steps,
            time_budget_s=settings.agent.time_budget_s,
            limits_for_role=None if policy is not None else _policy_limits(engine, settings),
        )
        yield AgentSession(Agent(deps), site, audit, connection, model, engine, approvals)


def session_summary(session: AgentSession) -> dict[str, Any]:
    """What the session runs on, for status lines and --json output."""
    return {
        "model": session.model.info.name,
        "model_sha256": session.model.info.sha256,
        "endpoint": session.connection.endpoint,
        "tags": len(session.agent.deps.catalog),
        "tools": session.agent.deps.registry.names(),
        "site": str(session.site.home),
    }
