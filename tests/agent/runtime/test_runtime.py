"""The site runtime over a real demo plant and a real cheap-KDF site: parts opened on
demand and once, doubles entering through the constructor, everything closed on exit."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.errors import VaultError
from agent.handover.unloaded import UnloadedModel
from agent.llm.scripted import ScriptedModel
from agent.policy.decision import ReadOnlyGate
from agent.runtime import SiteRuntime
from agent.triage.writer import TemplateWriter
from agent.vault.layout import TWIN_DATABASE
from plant.server import DemoPlantServer
from tests.support.runtimes import SHIFT_LEAD, scripted_runtime
from tests.support.sites import site_settings

pytestmark = pytest.mark.asyncio(loop_scope="module")

FIXED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def test_parts_open_on_demand_once_and_the_guard_comes_first(
    site_runtime: SiteRuntime,
) -> None:
    assert site_runtime.opened() == []
    approvals = site_runtime.approvals
    assert site_runtime.opened() == [
        "policy", "guard", "site", "audit", "checked_policy", "people", "approvals"]
    assert site_runtime.approvals is approvals and site_runtime.site is site_runtime.site
    assert site_runtime.guard.allowlist == ()  # loopback only: nothing on site allowlisted
    assert getattr(site_runtime.guard.on_refusal, "__self__", None) is site_runtime


async def test_the_agent_answers_with_the_scripted_model_through_the_real_loop(
    site_runtime: SiteRuntime, scripted_model: ScriptedModel,
) -> None:
    scripted_model.enqueue({"action": "final_answer", "citations": ["E1"],
                            "answer": "P-101.FlowRate was read; it is inside its range."})
    agent = await site_runtime.agent()
    answer = await agent.ask("What is the flow of P-101?", actor=SHIFT_LEAD, role="shift_lead")
    assert answer.outcome == "answered", answer.answer
    assert agent.deps.model is scripted_model and await site_runtime.agent() is agent
    assert {"connection", "catalog", "model", "agent"} <= set(site_runtime.opened())
    assert site_runtime.audit.search(kind="question", actor=SHIFT_LEAD)
    # Triage and the handover read the same stores as the agent.
    triage = await site_runtime.triage()
    assert triage.store is site_runtime.reports
    sources = await site_runtime.shift_sources()
    assert sources.model is scripted_model and sources.approvals is site_runtime.approvals


async def test_a_gate_and_a_clock_enter_through_the_constructor(
    live_plant: DemoPlantServer, site_home: Path,
) -> None:
    gate = ReadOnlyGate()
    async with scripted_runtime(site_home, live_plant.endpoint, gate=gate,
                                clock=lambda: FIXED) as runtime:
        agent = await runtime.agent()
        assert agent.deps.policy is gate and agent.deps.limits_for_role is None
        assert agent.deps.tool_context.clock() == FIXED
        request = runtime.approvals.propose_for_tag(
            actor=SHIFT_LEAD, role="shift_lead", catalog=await runtime.catalog(),
            tag="HX-101.OutletTemperatureSetpoint", value=34.0, reason="warm",
            evidence_ids=[])
        assert request.created_at == FIXED


async def test_everything_opened_is_closed_on_exit(
    live_plant: DemoPlantServer, site_home: Path,
) -> None:
    async with scripted_runtime(site_home, live_plant.endpoint) as runtime:
        site, connection = runtime.site, await runtime.connection()
        assert connection.connected
    assert not connection.connected
    with pytest.raises(VaultError, match="the site was closed"):
        site.database(TWIN_DATABASE)
    with pytest.raises(RuntimeError, match="closed"):
        _ = runtime.site


async def test_a_model_that_will_not_load_leaves_the_template_and_says_so(
    live_plant: DemoPlantServer, site_home: Path,
) -> None:
    heard: list[str] = []
    # The models directory is empty: no chat model, no embedding model.
    settings = site_settings(site_home, live_plant.endpoint,
                             model={"directory": str(site_home / "no-models")})
    async with SiteRuntime(settings, endpoint=live_plant.endpoint, notify=heard.append) as rt:
        writer = await rt.report_writer(use_model=True)
        assert isinstance(writer, TemplateWriter)
        sources = await rt.shift_sources()
        assert isinstance(sources.model, UnloadedModel)
    assert len(heard) == 2 and all(h.startswith("no local model (") for h in heard), heard
    assert "does not exist" in heard[0] and heard[0].endswith("using the template writer")

