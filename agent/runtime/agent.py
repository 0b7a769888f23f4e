"""Building the Agent from the parts the runtime opened: its tools, their context, the
policy gate and budgets of each role."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from agent.approvals import ApprovalService
from agent.audit import AuditSink
from agent.llm.base import ChatModel
from agent.pipeline.run import QuestionLimits
from agent.pipeline.runner import Agent, AgentDeps
from agent.policy import Policy, PolicyEngine
from agent.policy.decision import PolicyGate
from agent.runtime.stores import Knowledge, TwinStores
from agent.settings import Settings
from tools import documents as documents_tools
from tools import fixes, limits
from tools import history as historian_tools
from tools import incidents as incidents_tools
from tools import opcua as opcua_tools
from tools import whatif as whatif_tools
from tools.context import ToolContext
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection
from tools.registry import ToolRegistry


def policy_limits(engine: PolicyEngine, settings: Settings) -> Callable[[str], QuestionLimits]:
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


def tool_registry(policy: Policy, knowledge: Knowledge) -> ToolRegistry:
    """Every tool the site has the data for: the plant's, the twin's, fixes, and manuals
    and incidents when indexed. No tool proposes a change: a change comes only from the
    person's own words, decided by the policy (agent/pipeline)."""
    registry = ToolRegistry()
    opcua_tools.register(registry)
    limits.register(registry)
    historian_tools.register(registry)
    whatif_tools.register(registry)
    fixes.register(registry, policy)
    if knowledge.documents is not None:
        documents_tools.register(registry)
    if knowledge.incidents is not None:
        incidents_tools.register(registry)
    return registry


def build_agent(
    settings: Settings,
    *,
    model: ChatModel,
    connection: OpcUaConnection,
    catalog: Catalog,
    twin: TwinStores,
    knowledge: Knowledge,
    policy: Policy,
    engine: PolicyEngine,
    approvals: ApprovalService,
    audit: AuditSink,
    gate: PolicyGate | None,
    clock: Callable[[], datetime],
    plant_name: str,
) -> Agent:
    """The agent over open parts. ``gate`` replaces the policy engine and the per-role
    budgets (tests); without it the engine decides and the policy sets the budgets."""
    context = ToolContext(
        settings=settings,
        opcua=connection,
        catalog=catalog,
        clock=clock,
        historian=twin.historian,
        assets=twin.assets,
        documents=knowledge.documents,
        incidents=knowledge.incidents,
    )
    deps = AgentDeps(
        model=model,
        registry=tool_registry(policy, knowledge),
        tool_context=context,
        policy=gate or engine,
        audit=audit,
        approvals=approvals,
        plant_name=plant_name,
        max_steps=settings.agent.max_steps,
        time_budget_s=settings.agent.time_budget_s,
        plain_readings=settings.agent.plain_readings,
        limits_for_role=None if gate is not None else policy_limits(engine, settings),
    )
    return Agent(deps)
