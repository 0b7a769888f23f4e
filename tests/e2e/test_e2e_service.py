"""End to end through the site service with the real default model (one thread): the
site unlocked from a passphrase file as `plantagent serve` does, a question from the ask
suite answered right and grounded over the socket, a second question cancelled
mid-answer (audited) while the service stays ready, a third cut by a restart of the
service (a clear error, audited) and asked again of the restarted one; and two real OS
accounts asking at once (root only)."""

from __future__ import annotations

import asyncio
import grp
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.errors import ServiceError
from agent.people.identity import os_account
from agent.pipeline.events import AgentEvent
from agent.runtime import SiteRuntime
from agent.serve.client import ServiceClient
from agent.serve.daemon import credential_passphrase
from agent.serve.results import answer_from_wire
from agent.serve.site_socket import socket_path
from harness.evals import ask_suite
from plant.server import DemoPlantServer
from tests.support.os_accounts import ROOT_WITH_USERADD, os_accounts
from tests.support.sites import PASSPHRASE, new_site, site_settings

from ..agent.serve.serve_helpers import (
    ask_as,
    cancelled_answers,
    enroll,
    running_service,
    until,
)
from .conftest import SHIFT_LEAD

pytestmark = [pytest.mark.model, pytest.mark.asyncio(loop_scope="module")]
CASE = ask_suite.case("p101-bearing")
#: The model writes every answer: a value-only question like CASE is otherwise answered
#: from the readings without it, and there would be nothing to queue or cancel.
MODEL_WRITES = {"user": SHIFT_LEAD, "role": "shift_lead", "plain_readings": False}


async def test_the_real_model_answers_through_the_service(
    plant: DemoPlantServer, e2e_home: Path, default_model_path: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE + "\n")
    secret.chmod(0o600)
    settings = site_settings(e2e_home, model={
        "directory": str(default_model_path.parent), "threads": 1}, agent=MODEL_WRITES)
    case = CASE
    async with SiteRuntime(settings, endpoint=plant.endpoint,
                           passphrase=credential_passphrase(secret),
                           plant_name="the demo plant") as runtime:
        enroll(runtime, tmp_path, {"Rita Lead": os_account()})
        client = ServiceClient(socket_path(e2e_home))
        async with running_service(runtime) as server:
            await client.connect()
            answer = await client.ask(case.question, lambda _event: None)
            assert case.check(answer) == [], (answer.answer, answer.unsupported)
            tokens: list[AgentEvent] = []
            asking = asyncio.create_task(client.ask(
                case.question, lambda e: tokens.append(e) if e.kind == "token" else None))
            await until(lambda: len(tokens) >= 3, "the model writes", limit_s=300)
            asking.cancel()
            await until(lambda: len(cancelled_answers(runtime)) == 1, "the cancel is audited",
                        limit_s=300)
            await until(lambda: server.queue.view().running == [], "the model is free again")
            status = await client.status()
            assert status.guards.backend == "llama_cpp" and status.queue.waiting == []
            # The service restarts while a client waits on the model: a clear error.
            tokens.clear()
            waiting = asyncio.create_task(client.ask(
                case.question, lambda e: tokens.append(e) if e.kind == "token" else None))
            await until(lambda: len(tokens) >= 1, "the model writes again", limit_s=300)
        with pytest.raises(ServiceError, match="the service is stopping"):
            await waiting
        await client.close()
        async with running_service(runtime), \
                ServiceClient(socket_path(e2e_home)) as again:
            answer = await again.ask(case.question, lambda _event: None)
            assert case.check(answer) == [], (answer.answer, answer.unsupported)
        assert [a["actor"] for a in cancelled_answers(runtime)] == ["Rita Lead"] * 2


@pytest.fixture
def shared() -> Iterator[Path]:
    """A short directory outside root's private tmp, reachable by the test accounts."""
    path = Path(tempfile.mkdtemp(prefix="pa-e2e-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.skipif(not ROOT_WITH_USERADD, reason="needs root with useradd and runuser")
async def test_two_os_accounts_ask_the_real_model_at_once(
    plant: DemoPlantServer, default_model_path: Path, shared: Path
) -> None:
    group = f"pa{secrets.token_hex(3)}"
    with os_accounts(["alice", "bob"], group=group) as logins:
        home = new_site(shared / "site")
        os.chown(home, -1, grp.getgrnam(group).gr_gid)
        home.chmod(0o710)
        settings = site_settings(home, model={
            "directory": str(default_model_path.parent), "threads": 1}, agent=MODEL_WRITES)
        async with SiteRuntime(settings, endpoint=plant.endpoint,
                               plant_name="the demo plant") as runtime:
            enroll(runtime, shared, {"Alice": logins["alice"], "Bob": logins["bob"]})
            async with running_service(runtime, group=group):
                done = await asyncio.gather(*(
                    asyncio.to_thread(ask_as, logins[p], home, CASE.question)
                    for p in ("alice", "bob")))
            for result in done:
                assert result.returncode == 0, result.stderr
                answer = answer_from_wire(json.loads(result.stdout))
                assert CASE.check(answer) == [], (answer.answer, answer.unsupported)
            asked = runtime.audit.search(kind="question")
            assert sorted(r.actor for r in asked) == ["Alice", "Bob"]
