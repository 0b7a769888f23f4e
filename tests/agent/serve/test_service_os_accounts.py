"""Two REAL OS accounts ask the site service at the same time, each from their own
process with no site passphrase: the service tells them apart by the kernel's word
(SO_PEERCRED), answers both in turn, and records each question under its own person.
Needs root (useradd, runuser); the accounts and their group are removed afterwards."""

from __future__ import annotations

import asyncio
import grp
import json
import os
import secrets
from pathlib import Path

import pytest

from plant.server import DemoPlantServer
from tests.support.os_accounts import ROOT_WITH_USERADD, os_accounts
from tests.support.runtimes import scripted_runtime
from tests.support.sites import new_site

from .serve_helpers import (
    ANSWER,
    QUESTION,
    HeldModel,
    ask_as,
    enroll,
    final,
    running_service,
    until,
)

pytestmark = [
    pytest.mark.skipif(not ROOT_WITH_USERADD,
                       reason="needs root with useradd and runuser to create OS accounts"),
    pytest.mark.asyncio(loop_scope="module"),
]


async def test_two_accounts_ask_at_once_and_are_told_apart(
    live_plant: DemoPlantServer, shared_dir: Path
) -> None:
    group = f"pa{secrets.token_hex(3)}"
    with os_accounts(["alice", "bob"], group=group) as logins:
        home = new_site(shared_dir / "site")
        # The people's group may pass through the site directory to the socket, no more.
        os.chown(home, -1, grp.getgrnam(group).gr_gid)
        home.chmod(0o710)
        model = HeldModel([final(), final()])
        async with scripted_runtime(home, live_plant.endpoint, model) as runtime:
            enroll(runtime, shared_dir, {"Alice": logins["alice"], "Bob": logins["bob"]})
            async with running_service(runtime, group=group) as server:
                model.hold.set()
                alice = asyncio.create_task(
                    asyncio.to_thread(ask_as, logins["alice"], home, QUESTION))
                await until(lambda: model.entered == 1, "Alice's question reaches the model",
                            limit_s=240)
                bob = asyncio.create_task(
                    asyncio.to_thread(ask_as, logins["bob"], home, QUESTION))
                await until(lambda: [j.person for j in server.queue.view().waiting] == ["Bob"],
                            "Bob's question waits behind Alice's", limit_s=240)
                assert [j.person for j in server.queue.view().running] == ["Alice"]
                model.hold.clear()
                done = [await alice, await bob]
            for result in done:
                assert result.returncode == 0, result.stderr
                assert json.loads(result.stdout)["answer"] == ANSWER
            asked = runtime.audit.search(kind="question")
            assert sorted(r.actor for r in asked) == ["Alice", "Bob"]
