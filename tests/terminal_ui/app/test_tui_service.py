"""The agent service the UI talks to, against the real plant and site: one Read per
plant refresh, the status facts, and the triage watcher started and stopped with it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agent.llm.scripted import ScriptedModel
from agent.settings import Settings
from plant.server import DemoPlantServer

from .tui_helpers import PASSPHRASE, SHIFT_LEAD, scripted_service

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_a_plant_refresh_is_one_read_request_for_every_tag(
    settings: Settings, live_plant: DemoPlantServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with scripted_service(settings, live_plant.endpoint, ScriptedModel()) as service:
        first = await service.plant_snapshot()  # also reads the sparkline history once
        connection = service.sources.connection
        calls: list[str] = []
        real = connection.request

        async def counted(what: str, op: Any, **kwargs: Any) -> Any:
            calls.append(what)
            return await real(what, op, **kwargs)

        monkeypatch.setattr(connection, "request", counted)
        second = await service.plant_snapshot()
        tag_count = sum(len(e.tags) for e in second.equipment)
        assert calls == [f"read {tag_count} tags"]
        assert tag_count == len(service.agent.deps.catalog) > 40
        assert second.connection == "connected" and first.connection == "connected"
        assert all(t.quality == "good" for e in second.equipment for t in e.tags)
        assert any(len(t.history) > 3 for e in second.equipment for t in e.tags)


async def test_status_names_model_guard_user_and_connection(
    settings: Settings, live_plant: DemoPlantServer
) -> None:
    async with scripted_service(settings, live_plant.endpoint, ScriptedModel()) as service:
        status = await service.status()
    assert status.model == "scripted" and status.tokens_per_s is None
    assert status.connection == "connected" and status.endpoint == live_plant.endpoint
    assert status.egress.startswith("on-site only")
    assert (status.user, status.role) == (SHIFT_LEAD, "shift_lead")


async def test_triage_watches_in_the_background_and_stops_with_the_service(
    settings: Settings, live_plant: DemoPlantServer
) -> None:
    async with scripted_service(settings, live_plant.endpoint, ScriptedModel(), triage=True,
                                triage_interval_s=0.2) as service:
        runner = service.triage
        assert runner is not None and service.review is not None
        for _ in range(200):
            if runner.last and runner.last.startswith("pass:"):
                break
            await asyncio.sleep(0.05)
        assert runner.last is not None and runner.last.startswith("pass:")
        assert (await service.status()).triage == runner.last
        task = runner._task
        assert task is not None and not task.done()
    assert task.done() and not task.cancelled() and task.exception() is None


async def test_tui_command_without_a_terminal_names_the_fix(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A plant that is down no longer stops the UI (test_tui_startup.py); a missing
    # terminal does, once the site is unlocked.
    from agent.cli import main

    monkeypatch.setenv("PLANTAGENT_PASSPHRASE", PASSPHRASE)
    argv = ["--home", str(settings.home), "tui", "--endpoint", "opc.tcp://127.0.0.1:9/x/"]
    code = await asyncio.to_thread(main, argv)
    err = capsys.readouterr().err
    assert code == 2
    assert "the terminal UI needs a terminal" in err and "fix:" in err and "ssh -t" in err
