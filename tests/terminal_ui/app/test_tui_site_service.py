"""The terminal UI as a client of the site service (`plantagent tui` while `plantagent
serve` runs): a real service over its Unix socket, on the real demo plant and a real
encrypted site, with a scripted model. The person is known from the OS account; no
passphrase is given to the UI."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Label

from agent.cli import main
from agent.cli.tui_cmd import site_service_starter
from agent.people.identity import os_account
from agent.serve.client import ServiceClient
from agent.serve.site_socket import socket_path
from plant.server import DemoPlantServer
from terminal_ui.app import PlantAgentApp
from terminal_ui.panes.ask import AskPane
from terminal_ui.panes.audit import AuditPane
from terminal_ui.panes.plant import PlantPane
from terminal_ui.remote import SiteServiceBackend
from terminal_ui.startup import StartupView
from terminal_ui.status import StatusBar
from terminal_ui.trend import TrendScreen
from tests.agent.serve.serve_helpers import (
    ANSWER,
    QUESTION,
    HeldModel,
    cancelled_answers,
    enroll,
    final,
    running_service,
    until,
)
from tests.support.runtimes import scripted_runtime

from .tui_helpers import focus_settled, open_trend, wait_for

#: The async tests share the module's event loop with ``live_plant``.
in_module_loop = pytest.mark.asyncio(loop_scope="module")

PERSON = "Rita Lead"


def ask_pane(app: PlantAgentApp) -> AskPane:
    """The Ask pane on the tabs the starter pushed."""
    return app.screen.query_one(AskPane)


async def started(app: PlantAgentApp, pilot: Pilot[Any]) -> AskPane:
    """Wait until the app is connected, shows the tabs and has the keyboard in the
    question input."""
    await wait_for(lambda: app.started, pilot, what="the connection to the service")
    await focus_settled(app, pilot)
    return ask_pane(app)


@in_module_loop
async def test_a_question_is_answered_through_the_service_as_the_enrolled_person(
    live_plant: DemoPlantServer, site_home: Path, tmp_path: Path
) -> None:
    model = HeldModel([final()])
    async with scripted_runtime(site_home, live_plant.endpoint, model) as runtime:
        enroll(runtime, tmp_path, {PERSON: os_account()})
        backend = SiteServiceBackend(socket_path(site_home))
        async with running_service(runtime):
            app = PlantAgentApp(starter=site_service_starter(backend))
            async with app.run_test(size=(80, 24)) as pilot:
                pane = await started(app, pilot)
                await pilot.press(*QUESTION, "enter")
                await wait_for(lambda: len(pane.answers) == 1, pilot, what="the answer")
                assert pane.answers[0].answer == ANSWER
                assert pane.current is not None and pane.current.answer_text == ANSWER
                assert pane.current.meta_text.startswith("grounded")
                # The citation's evidence comes from the answer's own steps.
                await wait_for(lambda: bool(pane.citation_views), pilot,
                               what="the citations")
                assert pane.citation_views[0].id == "E1"
                assert pane.citation_views[0].kind == "reading"
                # The status bar shows who the service knows the caller as.
                bar = app.screen.query_one(StatusBar)
                await wait_for(lambda: bar.last is not None, pilot, what="the status")
                assert bar.last is not None
                assert (bar.last.user, bar.last.role) == (PERSON, "shift_lead")
                assert bar.last.model == "scripted" and bar.last.connection == "connected"
                # The Plant tab reads the live plant through the service.
                await pilot.press("f3")
                plant = app.screen.query_one(PlantPane)
                await wait_for(lambda: plant.snapshot is not None, pilot, what="the plant")
                assert plant.snapshot is not None and plant.snapshot.connection == "connected"
                tags = [t for e in plant.snapshot.equipment for t in e.tags]
                assert len(tags) > 40 and all(t.quality == "good" for t in tags)
                assert any(t.name.startswith("P-101.") for t in tags)
                # The audit log is the auditors' to read: a shift lead is refused, clearly.
                await pilot.press("f6")
                audit = app.screen.query_one(AuditPane)
                page_line = audit.query_one("#page-line", Label)
                await wait_for(lambda: "may not read the audit log"
                               in str(page_line.content), pilot, what="the refusal")
                assert str(page_line.content).startswith("cannot read the audit log: ")
                assert audit.page is None
                # Enter on a tag opens its trend, read by the service from the plant's
                # server history.
                await pilot.press("f3")
                trend = await open_trend(app, pilot, plant, "P-101.FlowRate")
                assert trend.view is not None and trend.view.tag == "P-101.FlowRate"
                assert len(trend.view.values) > 10  # the plant's pre-filled history
                assert trend.view.low is not None and trend.view.high is not None
                await pilot.press("escape")
                await wait_for(lambda: not isinstance(app.screen, TrendScreen), pilot,
                               what="the trend closed")
            await backend.close()
        asked = runtime.audit.search(kind="question")
        assert [r.actor for r in asked] == [PERSON]
        answered = runtime.audit.search(kind="answer")
        assert [r.actor for r in answered] == [PERSON]


@in_module_loop
async def test_escape_sends_cancel_and_the_next_question_is_answered(
    live_plant: DemoPlantServer, site_home: Path, tmp_path: Path
) -> None:
    model = HeldModel([final(), final()])
    async with scripted_runtime(site_home, live_plant.endpoint, model) as runtime:
        enroll(runtime, tmp_path, {PERSON: os_account()})
        backend = SiteServiceBackend(socket_path(site_home))
        async with running_service(runtime) as server:
            app = PlantAgentApp(starter=site_service_starter(backend))
            async with app.run_test(size=(80, 24)) as pilot:
                pane = await started(app, pilot)
                model.hold.set()
                await pilot.press(*QUESTION, "enter")
                await wait_for(lambda: model.entered == 1, pilot,
                               what="the question to reach the model")
                await pilot.press("escape")
                await wait_for(lambda: not pane.running, pilot, what="the cancellation")
                assert pane.current is not None and pane.current.meta_text == "cancelled"
                await wait_for(lambda: len(cancelled_answers(runtime)) == 1, pilot,
                               what="the service to audit the cancel")
                await wait_for(lambda: server.queue.view().running == [], pilot,
                               what="the service to free the model")
                model.hold.clear()
                pane.query_one("#question").focus()
                await pilot.press(*QUESTION, "enter")
                await wait_for(lambda: len(pane.answers) == 1, pilot,
                               what="the second answer")
                assert pane.answers[0].answer == ANSWER
            await backend.close()
        cancelled = cancelled_answers(runtime)
        assert [(c["actor"], c["question"]) for c in cancelled] == [(PERSON, QUESTION)]


@in_module_loop
async def test_the_place_in_line_shows_and_escape_leaves_the_line(
    live_plant: DemoPlantServer, site_home: Path, tmp_path: Path
) -> None:
    model = HeldModel([final()])
    async with scripted_runtime(site_home, live_plant.endpoint, model) as runtime:
        enroll(runtime, tmp_path, {PERSON: os_account()})
        path = socket_path(site_home)
        backend = SiteServiceBackend(path)
        async with running_service(runtime) as server, ServiceClient(path) as other:
            model.hold.set()  # another terminal's question holds the model
            holding = asyncio.create_task(other.ask(QUESTION, lambda e: None))
            await until(lambda: model.entered == 1, "the other question reaches the model")
            app = PlantAgentApp(starter=site_service_starter(backend))
            async with app.run_test(size=(80, 24)) as pilot:
                pane = await started(app, pilot)
                await pilot.press(*QUESTION, "enter")
                await wait_for(lambda: "waiting for the model: next in line" in pane.activity,
                               pilot, what="the place in line")
                assert pane.current is not None
                assert any("next in line" in what for what, _ in pane.current.steps)
                await pilot.press("escape")
                await wait_for(lambda: server.queue.view().waiting == [], pilot,
                               what="the question to leave the line")
                assert pane.current.meta_text == "cancelled"
            await backend.close()
            model.hold.clear()
            assert (await holding).answer == ANSWER
        notes = [(c["actor"], c["note"]) for c in cancelled_answers(runtime)]
        assert notes == [(PERSON, "cancelled while waiting for the model")]


@in_module_loop
async def test_the_service_stopping_while_the_ui_waits_is_said_and_survived(
    live_plant: DemoPlantServer, site_home: Path, tmp_path: Path
) -> None:
    model = HeldModel([final()])
    async with scripted_runtime(site_home, live_plant.endpoint, model) as runtime:
        enroll(runtime, tmp_path, {PERSON: os_account()})
        backend = SiteServiceBackend(socket_path(site_home))
        app = PlantAgentApp(starter=site_service_starter(backend))
        service = AsyncExitStack()
        await service.enter_async_context(running_service(runtime))
        async with app.run_test(size=(80, 24)) as pilot:
            pane = await started(app, pilot)
            model.hold.set()
            await pilot.press(*QUESTION, "enter")
            await wait_for(lambda: model.entered == 1, pilot,
                           what="the question to reach the model")
            await service.aclose()
            # The service stopped under the waiting question: a clear error, no crash.
            await wait_for(lambda: not pane.running, pilot, what="the error")
            assert pane.current is not None
            assert "the service is stopping" in pane.current.meta_text
            bar = app.screen.query_one(StatusBar)
            bar.refresh_status()
            await wait_for(lambda: bar.problem is not None, pilot, what="the bar to say so")
            assert bar.problem is not None and "not connected" in bar.problem
            plant = app.screen.query_one(PlantPane)
            await wait_for(lambda: plant.problem is not None, pilot,
                           what="the Plant tab to say so")
            # No service: the next question says so, with the fix.
            await pilot.press(*QUESTION, "enter")
            await wait_for(lambda: pane.current is not None and "no plantagent service "
                           "answers" in pane.current.meta_text, pilot,
                           what="the no-service error")
            # Back again: the UI connects anew on the next question.
            model.hold.clear()
            async with running_service(runtime):
                await pilot.press(*QUESTION, "enter")
                await wait_for(lambda: len(pane.answers) == 1, pilot, what="the answer")
                assert pane.answers[0].answer == ANSWER
            assert app.is_running
        await backend.close()
        assert [c["question"] for c in cancelled_answers(runtime)] == [QUESTION]


def test_tui_picks_the_service_when_its_socket_exists_and_asks_no_passphrase(
    site_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    socket_path(site_home).touch()  # the switch is the socket's presence
    monkeypatch.delenv("PLANTAGENT_PASSPHRASE", raising=False)
    # Under pytest there is no terminal: the command stops there, before any site is
    # opened (the in-process path would open and unlock the site first).
    assert main(["--home", str(site_home), "tui"]) == 2
    err = capsys.readouterr().err
    assert "the terminal UI needs a terminal" in err and "opening the site" not in err
    assert main(["--home", str(site_home), "tui", "--endpoint", "opc.tcp://127.0.0.1:1"]) == 2
    assert "not for the site service" in capsys.readouterr().err
    assert main(["--home", str(site_home), "tui", "--no-service", "--role", "x"]) == 2
    assert "--role is for the site service" in capsys.readouterr().err


@in_module_loop
async def test_no_service_behind_the_socket_is_said_on_the_start_screen(
    tmp_path: Path
) -> None:
    app = PlantAgentApp(starter=site_service_starter(
        SiteServiceBackend(tmp_path / "service.sock")))
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(StartupView)
        await wait_for(lambda: view.failed is not None, pilot, what="the failure")
        assert "no plantagent service answers" in view.plain()
        assert "plantagent serve" in view.plain() and not app.started
