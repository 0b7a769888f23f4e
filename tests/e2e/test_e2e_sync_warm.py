"""A fresh site's first question starts warm after `plantagent twin sync`: the sync
evaluates the model's prompt prefix for the plant it browsed and keeps its state in the
site, so the first question of a later command evaluates only what follows the prefix.
The real default model, one thread, the demo plant."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.cli import main
from agent.runtime import SiteRuntime
from plant.server import DemoPlantServer
from tests.support.sites import PASSPHRASE, new_site, site_settings

from .conftest import SHIFT_LEAD

pytestmark = [pytest.mark.model, pytest.mark.asyncio(loop_scope="module")]


async def test_the_first_question_after_a_sync_starts_warm(
    plant: DemoPlantServer, tmp_path: Path, default_model_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    home = new_site(tmp_path / "site", passphrase=PASSPHRASE)
    monkeypatch.setenv("PLANTAGENT_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("PLANTAGENT_MODEL__DIRECTORY", str(default_model_path.parent))
    monkeypatch.setenv("PLANTAGENT_MODEL__THREADS", "1")
    # In a thread: the CLI runs its own event loop while the plant's keeps serving.
    code = await asyncio.to_thread(main, ["--home", str(home), "twin", "sync",
                                          "--endpoint", plant.endpoint])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "preparing the model's prompt for this plant" in err
    assert "prompt tokens evaluated and kept" in err

    settings = site_settings(home, plant.endpoint, user=SHIFT_LEAD, agent={
        "user": SHIFT_LEAD, "role": "shift_lead", "plain_readings": False})
    async with SiteRuntime(settings, endpoint=plant.endpoint, passphrase=PASSPHRASE) as rt:
        agent = await rt.agent()
        answer = await agent.ask("How is the bearing temperature of P-101?",
                                 actor=SHIFT_LEAD, role="shift_lead")
        prompt = int(str(rt.audit.search(kind="model_call")[0].payload["prompt_tokens"]))
    assert answer.grounded, answer.answer
    # The prefix came from the site: the question evaluated far less than one prompt.
    assert 0 < answer.timings.prompt_tokens_evaluated < prompt / 2, (answer.timings, prompt)
