"""How the evaluation reaches the product: the ONE place that opens the agent and the ONE
place that opens triage, each through the product's one composition root (SiteRuntime),
exactly as `plantagent ask` and `plantagent triage run` do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from agent.llm.base import ChatModel
from agent.pipeline.answer import AgentAnswer
from agent.settings import Settings
from agent.triage.service import PassResult
from harness.qualify.ask_measure import step_counts

ASKER, ROLE = "eval-shift-lead", "shift_lead"


@dataclass
class ProductAgent:
    """An open agent: ask a question; how its tag names map to the server's node ids."""

    ask: Callable[[str], Awaitable[AgentAnswer]]
    tag_nodes: dict[str, str]
    #: (valid first-time model steps, model steps) of the last question asked.
    last_steps: Callable[[], tuple[int, int]] = lambda: (0, 0)


@dataclass
class ProductTriage:
    """An open triage service: one pass; its tag names mapped to node ids."""

    run_once: Callable[[], Awaitable[PassResult]]
    tag_nodes: dict[str, str]


@asynccontextmanager
async def open_product_agent(settings: Settings, endpoint: str, *, passphrase: str | None,
                             plant_name: str, model: ChatModel | None = None
                             ) -> AsyncIterator[ProductAgent]:  # fmt: skip
    """The agent as the product composes it (``model`` None: the settings' model)."""
    from agent.runtime import SiteRuntime

    async with SiteRuntime(settings, endpoint=endpoint, model=model, passphrase=passphrase,
                           plant_name=plant_name) as runtime:
        agent = await runtime.agent()
        catalog = await runtime.catalog()
        nodes = {name: info.node_id for name, info in catalog.tags.items()}

        steps = [(0, 0)]

        async def ask(question: str) -> AgentAnswer:
            before = runtime.audit.size()
            answer = await agent.ask(question, actor=ASKER, role=ROLE)
            added = runtime.audit.size() - before
            records = runtime.audit.last(added) if added > 0 else []
            valid, total, _chosen = step_counts(records)
            steps[0] = (valid, total)
            return answer

        yield ProductAgent(ask, nodes, lambda: steps[0])


@asynccontextmanager
async def open_product_triage(settings: Settings, endpoint: str
                              ) -> AsyncIterator[ProductTriage]:  # fmt: skip
    """Triage as `plantagent triage run` composes it (the template writer: the diagnosis,
    which is what is judged, does not depend on the writer)."""
    from agent.runtime import SiteRuntime

    async with SiteRuntime(settings, endpoint=endpoint) as runtime:
        catalog = await runtime.catalog()
        service = await runtime.triage(writer=await runtime.report_writer(use_model=False))
        nodes = {name: info.node_id for name, info in catalog.tags.items()}

        async def run_once() -> PassResult:
            return await service.run_once()

        yield ProductTriage(run_once, nodes)
