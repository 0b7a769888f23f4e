"""The site service over its socket, against the real demo plant and the real encrypted
site, with a scripted model: who calls (SO_PEERCRED -> enrolled person), answers,
cancellation and disconnects (audited), one service per site, a crash's socket replaced,
a restart while a client waits."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from pathlib import Path

import pytest

from agent.cli import main
from agent.errors import ServiceError
from agent.people.identity import os_account
from agent.people.keys import KeySecret, write_key_file
from agent.pipeline.events import AgentEvent
from agent.serve.client import ServiceClient
from agent.serve.daemon import run_site_service
from agent.serve.results import result_models
from agent.serve.site_socket import socket_path
from plant.server import DemoPlantServer
from tests.support.runtimes import scripted_runtime

from .serve_helpers import (
    ANSWER,
    QUESTION,
    HeldModel,
    cancelled_answers,
    enroll,
    final,
    running_service,
    until,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_answers_the_enrolled_caller(live_plant: DemoPlantServer, site_home: Path,
                                           tmp_path: Path) -> None:
    model = HeldModel([final()])
    async with scripted_runtime(site_home, live_plant.endpoint, model) as runtime:
        enroll(runtime, tmp_path, {"Rita Lead": os_account()})
        async with running_service(runtime) as server, \
                ServiceClient(socket_path(site_home)) as client:
            assert client.welcome is not None
            assert (client.welcome.person, client.welcome.role) == ("Rita Lead", "shift_lead")
            events: list[AgentEvent] = []
            answer = await client.ask(QUESTION, events.append)
            assert answer.answer == ANSWER
            # Each step's result comes back in its tool's own type (readings as readings).
            assert answer.steps and all(isinstance(s.result, result_models()[s.tool])
                                        for s in answer.steps if s.ok)
            assert any(e.kind == "status" for e in events)
            status = await client.status()
            assert status.service.pid == os.getpid() and status.service.people == 2
            assert status.queue.running == [] and status.queue.waiting == []
            assert status.guards.site_unlocked and status.guards.model == "scripted"
            assert status.guards.egress.startswith("on-site only")
            assert status.opcua == "connected" and status.triage == "off"
            # The plant, read-only, as the terminal UI's Plant tab shows it.
            plant = await client.plant()
            assert plant["connection"] == "connected" and plant["equipment"]
            assert all(t["quality"] == "good" for e in plant["equipment"] for t in e["tags"])
            assert server.queue.view().running == []
        asked = runtime.audit.search(kind="question")
        assert [r.actor for r in asked] == ["Rita Lead"]
        assert not socket_path(site_home).exists()  # removed on a clean stop


async def test_unknown_disabled_and_malformed_callers_are_refused(
    live_plant: DemoPlantServer, site_home: Path, tmp_path: Path
) -> None:
    async with scripted_runtime(site_home, live_plant.endpoint, HeldModel()) as runtime:
        admin = enroll(runtime, tmp_path, {"Somebody Else": "somebody-else-os"})
        path = socket_path(site_home)
        async with running_service(runtime):
            with pytest.raises(ServiceError, match=f"the OS account '{os_account()}' is not "
                               "enrolled") as refused:
                await ServiceClient(path).connect()
            assert refused.value.fix and "plantagent people add" in refused.value.fix
            # Whatever a client writes, it is a clear refusal, never a dropped connection.
            reader, writer = await asyncio.open_unix_connection(os.fspath(path))
            writer.write(b"not json at all\n")
            reply = json.loads(await reader.readline())
            writer.close()
            assert reply["type"] == "error" and "malformed protocol message" in reply["message"]
            key = tmp_path / "rita.key"
            write_key_file(key)
            runtime.people.enroll(by=admin, name="Rita Lead", os_account=os_account(),
                                  roles=["shift_lead"], secret=KeySecret(key_file=key))
            runtime.people.disable(by=admin, name="Rita Lead")
            with pytest.raises(ServiceError, match="Rita Lead is disabled"):
                await ServiceClient(path).connect()


async def test_cancel_and_disconnect_drop_the_question(
    live_plant: DemoPlantServer, site_home: Path, tmp_path: Path
) -> None:
    model = HeldModel([final(), final()])
    async with scripted_runtime(site_home, live_plant.endpoint, model) as runtime:
        enroll(runtime, tmp_path, {"Rita Lead": os_account()})
        path = socket_path(site_home)
        async with running_service(runtime) as server:
            model.hold.set()
            first = ServiceClient(path)
            await first.connect()
            running = asyncio.create_task(first.ask(QUESTION, lambda e: None))
            await until(lambda: model.entered == 1, "the first question reaches the model")
            async with ServiceClient(path) as second:
                heard: list[AgentEvent] = []
                waiting = asyncio.create_task(second.ask(QUESTION, heard.append))
                await until(lambda: any("next in line" in e.text for e in heard),
                            "the second question hears its place in line")
                waiting.cancel()  # cancelled while waiting
                await until(lambda: server.queue.view().waiting == [], "it leaves the line")
            # The first client goes away mid-answer: its question is dropped.
            await first.close()
            await until(lambda: len(cancelled_answers(runtime)) == 2, "both are audited")
            with pytest.raises(ServiceError, match="closed by this client"):
                await running
            model.hold.clear()
            async with ServiceClient(path) as third:  # the service takes the next one
                answer = await third.ask(QUESTION, lambda e: None)
            assert answer.answer == ANSWER and model.pending == 1  # the held step unused
        notes = sorted(a["note"] for a in cancelled_answers(runtime))
        assert notes == ["cancelled by the user before an answer",
                         "cancelled while waiting for the model"]


async def test_one_service_per_site_and_a_stale_socket_is_replaced(
    live_plant: DemoPlantServer, site_home: Path, tmp_path: Path
) -> None:
    path = socket_path(site_home)
    crashed = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    crashed.bind(os.fspath(path))  # bound, never listening, never removed: a crash
    crashed.close()
    async with scripted_runtime(site_home, live_plant.endpoint,
                                HeldModel([final()])) as runtime:
        enroll(runtime, tmp_path, {"Rita Lead": os_account()})
        async with running_service(runtime):
            with pytest.raises(ServiceError, match="another plantagent service already "
                               f"serves the site .* \\(pid {os.getpid()}\\)"):
                await run_site_service(runtime, asyncio.Event())
            async with ServiceClient(path) as client:
                assert (await client.ask(QUESTION, lambda e: None)).answer == ANSWER


async def test_a_restart_while_a_client_waits(live_plant: DemoPlantServer, site_home: Path,
                                              tmp_path: Path) -> None:
    model = HeldModel([final()])
    async with scripted_runtime(site_home, live_plant.endpoint, model) as runtime:
        enroll(runtime, tmp_path, {"Rita Lead": os_account()})
        path = socket_path(site_home)
        async with running_service(runtime):
            model.hold.set()
            client = ServiceClient(path)
            await client.connect()
            asking = asyncio.create_task(client.ask(QUESTION, lambda e: None))
            await until(lambda: model.entered == 1, "the question reaches the model")
        # The service stopped under the waiting client: a clear error, nothing answered.
        with pytest.raises(ServiceError, match="the service is stopping") as stopped:
            await asking
        assert stopped.value.fix and "ask again" in stopped.value.fix
        await client.close()
        assert [a["question"] for a in cancelled_answers(runtime)] == [QUESTION]
        model.hold.clear()
        async with running_service(runtime), ServiceClient(path) as again:
            answer = await again.ask(QUESTION, lambda e: None)
        assert answer.answer == ANSWER


async def test_the_cli_asks_the_service_when_it_runs(
    live_plant: DemoPlantServer, site_home: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str]
) -> None:
    async with scripted_runtime(site_home, live_plant.endpoint,
                                HeldModel([final()])) as runtime:
        enroll(runtime, tmp_path, {"Rita Lead": os_account()})
        home = str(site_home)
        async with running_service(runtime):
            # The socket is there: `ask` goes to the service (no passphrase, no model here).
            code = await asyncio.to_thread(main, ["--home", home, "ask", QUESTION, "--json"])
            out, err = capsys.readouterr()
            assert code == 0, err
            assert json.loads(out)["answer"] == ANSWER
            code = await asyncio.to_thread(main, ["--home", home, "status", "--json"])
            status = json.loads(capsys.readouterr().out)
            assert code == 0 and status["service"]["pid"] == os.getpid()
            assert status["guards"]["model"] == "scripted"
            code = await asyncio.to_thread(main, ["--home", home, "status"])
            assert code == 0 and "queue     0 running, 0 waiting" in capsys.readouterr().out
        assert [r.actor for r in runtime.audit.search(kind="question")] == ["Rita Lead"]
    # No service: `status` says so and how to start it; `ask --service` too.
    assert await asyncio.to_thread(main, ["--home", home, "status"]) == 1
    err = capsys.readouterr().err
    assert "no plantagent service answers on" in err and "systemctl start" in err
    assert await asyncio.to_thread(main, ["--home", home, "ask", QUESTION, "--service"]) == 1


async def test_plantagent_serve_refuses_a_second_service_and_a_shell_passphrase(
    live_plant: DemoPlantServer, site_home: Path, home: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with scripted_runtime(site_home, live_plant.endpoint,
                                HeldModel([final()])) as runtime:
        enroll(runtime, tmp_path, {"Rita Lead": os_account()})
        async with running_service(runtime):
            code = await asyncio.to_thread(main, ["--home", str(site_home), "serve",
                                                  "--endpoint", live_plant.endpoint])
            err = capsys.readouterr().err
            assert code == 1 and "another plantagent service already serves" in err
            assert "fix: use that one (plantagent status)" in err
    # A passphrase site: the service takes the passphrase from a file, never a shell's.
    monkeypatch.setenv("PLANTAGENT_PASSPHRASE", "typed in a shell")
    code = await asyncio.to_thread(main, ["--home", str(home), "serve", "--endpoint",
                                          live_plant.endpoint])
    err = capsys.readouterr().err
    assert code == 2 and "needs the site passphrase from a credential file" in err
    assert "--passphrase-file" in err and not socket_path(home).exists()
