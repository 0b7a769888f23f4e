"""One question to the real default model through the app, as a shift lead asks it."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.runtime import SiteRuntime
from agent.service import open_service
from agent.settings import Settings
from plant.server import DemoPlantServer
from terminal_ui.app import PlantAgentApp
from terminal_ui.panes.ask import AskPane

from .tui_helpers import PASSPHRASE, focus_settled, screen_text, site_settings, wait_for

pytestmark = [pytest.mark.model, pytest.mark.asyncio(loop_scope="module")]

#: Not a value-only question (that one the system answers without the model).
QUESTION = "How is the bearing temperature of P-101?"


async def test_the_real_model_answer_appears_with_its_citations(
    settings: Settings, live_plant: DemoPlantServer, default_model_path: Path
) -> None:
    real = site_settings(settings.home, model={"directory": str(default_model_path.parent)})
    async with SiteRuntime(real, endpoint=live_plant.endpoint, passphrase=PASSPHRASE,
                           plant_name="the demo plant") as runtime, \
            open_service(runtime, triage=False) as service:
        app = PlantAgentApp(service)
        async with app.run_test(size=(80, 24)) as pilot:
            pane = app.query_one(AskPane)
            await focus_settled(app, pilot)
            await pilot.press(*QUESTION, "enter")
            await wait_for(lambda: bool(pane.citation_views), pilot, limit_s=240,
                           what="the real model's answer")
            answer = pane.answers[-1]
            assert answer.outcome == "answered" and answer.grounded, answer.answer
            assert pane.current is not None and pane.current.answer_text == answer.answer
            assert "P-101" in answer.answer
            assert any(c.kind == "reading" for c in pane.citation_views)
            words = answer.answer.split()[:3]
            assert " ".join(words) in " ".join(screen_text(app).split())
            status = await service.status()
            assert status.tokens_per_s is not None and status.tokens_per_s > 0
