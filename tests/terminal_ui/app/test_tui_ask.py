"""The Ask pane against the real agent service (demo plant, encrypted site) with a
scripted model: streaming, citations with their evidence, cancellation."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import Static

from agent.service import QuestionCancelled
from agent.settings import Settings
from plant.server import DemoPlantServer
from terminal_ui.app import PlantAgentApp
from terminal_ui.evidence import EvidenceScreen
from terminal_ui.panes.ask import AskPane

from .tui_helpers import HoldingModel, final, focus_settled, scripted_service, wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

QUESTION = "Is P-101 running within its limits?"
ANSWER = "P-101 is running and its readings are inside the normal ranges."


async def test_answer_streams_in_and_citations_open_the_evidence(
    settings: Settings, live_plant: DemoPlantServer
) -> None:
    model = HoldingModel([final(ANSWER, "E1")], hold_at=60)
    model.hold.set()
    async with scripted_service(settings, live_plant.endpoint, model) as service:
        app = PlantAgentApp(service)
        async with app.run_test(size=(80, 24)) as pilot:
            pane = app.query_one(AskPane)
            await focus_settled(app, pilot)
            await pilot.press(*QUESTION, "enter")
            await wait_for(model.held.is_set, pilot, what="the model to start writing")
            # Half the step is written: the part of the answer in it is on screen already.
            await wait_for(lambda: pane.current is not None and bool(pane.current.answer_text),
                           pilot, what="the partial answer")
            assert pane.current is not None
            partial = pane.current.answer_text
            assert ANSWER.startswith(partial) and len(partial) < len(ANSWER)
            assert pane.running
            # The steps so far are listed as they happen, each with when it started.
            steps = str(pane.current.query_one(".steps", Static).render())
            assert pane.current.steps and "1. " in steps and " s)" in steps
            assert all(at >= 0 for _, at in pane.current.steps)
            model.release.set()
            await wait_for(lambda: bool(pane.citation_views), pilot, what="the citations")
            assert pane.current.answer_text == ANSWER
            assert pane.answers[-1].grounded
            assert "grounded" in pane.current.meta_text
            # Answered: the steps fold to one line.
            assert "step(s):" in str(pane.current.query_one(".steps", Static).render())
            cited = pane.citation_views[0]
            assert cited.id == "E1" and cited.kind == "reading"
            assert any(line.startswith("P-101.") for line in cited.lines)
            # Keyboard only: Tab to the citation list, Enter opens the evidence.
            for _ in range(4):
                if getattr(app.focused, "id", None) == "citations":
                    break
                await pilot.press("tab")
            assert getattr(app.focused, "id", None) == "citations"
            await pilot.press("enter")
            await wait_for(lambda: isinstance(app.screen, EvidenceScreen), pilot,
                           what="the evidence screen")
            assert isinstance(app.screen, EvidenceScreen)
            assert app.screen.citation.id == "E1"
            await pilot.press("escape")
            await wait_for(lambda: not isinstance(app.screen, EvidenceScreen), pilot,
                           what="the evidence screen to close")


async def test_escape_cancels_a_running_question_and_the_next_one_is_answered(
    settings: Settings, live_plant: DemoPlantServer
) -> None:
    model = HoldingModel([final(ANSWER, "E1"), final(ANSWER, "E1")])
    model.hold.set()
    async with scripted_service(settings, live_plant.endpoint, model) as service:
        app = PlantAgentApp(service)
        async with app.run_test(size=(80, 24)) as pilot:
            pane = app.query_one(AskPane)
            await focus_settled(app, pilot)
            await pilot.press(*QUESTION, "enter")
            await wait_for(model.held.is_set, pilot, what="the model to start")
            await pilot.press("escape")
            await wait_for(lambda: not pane.running, pilot, what="the cancellation")
            assert pane.current is not None and pane.current.meta_text == "cancelled"
            # The model thread stops at its next token instead of writing on.
            await wait_for(lambda: model.stopped_by is not None, pilot, what="the model stop")
            assert isinstance(model.stopped_by, QuestionCancelled)
            records = await asyncio.to_thread(service.audit.last, 5)
            cancelled = [r for r in records if r.kind == "answer"
                         and r.payload.get("outcome") == "cancelled"]
            assert cancelled and cancelled[-1].payload["question"] == QUESTION
            # The session is still usable: the next question gets its answer.
            pane.query_one("#question").focus()
            await pilot.press(*QUESTION, "enter")
            await wait_for(lambda: len(pane.answers) == 1, pilot, what="the second answer")
            assert pane.answers[0].answer == ANSWER


async def test_a_very_long_answer_scrolls_and_stays_at_its_end(
    settings: Settings, live_plant: DemoPlantServer
) -> None:
    long_answer = "\n".join(f"P-101 is running, line {'i' * (n % 7 + 1)}." for n in range(120))
    model = HoldingModel([final(long_answer, "E1")])
    async with scripted_service(settings, live_plant.endpoint, model) as service:
        app = PlantAgentApp(service)
        async with app.run_test(size=(80, 24)) as pilot:
            pane = app.query_one(AskPane)
            await focus_settled(app, pilot)
            await pilot.press(*QUESTION, "enter")
            await wait_for(lambda: bool(pane.citation_views), pilot, what="the answer")
            assert pane.current is not None and pane.current.answer_text == long_answer
            transcript = pane.query_one("#transcript")
            await wait_for(lambda: transcript.max_scroll_y > 100, pilot, what="the layout")
            # Scrolling may animate; the test waits for where it settles, not for a moment.
            await wait_for(lambda: transcript.scroll_y == transcript.max_scroll_y, pilot,
                           what="the end in view")
            transcript.focus()
            await pilot.press("home")
            await wait_for(lambda: transcript.scroll_y == 0, pilot, what="the start in view")
