"""Two REAL OS accounts decide on a plant write through the site service, each from
their own process, with their own key file and no site passphrase: Alice asked for the
change through the service and cannot approve it (two-person rule: the request records
her name and her own OS account, not the service's), Bob cannot approve as Alice, and Bob's
approval is recorded as Bob's own signature. Needs root (useradd, runuser); the accounts
are removed afterwards."""

from __future__ import annotations

import asyncio
import grp
import json
import os
import pwd
import subprocess
from pathlib import Path

import pytest

from agent.approvals.authority import check_statement
from agent.people.keys import KeySecret, write_key_file
from agent.people.names import person_key
from plant.server import DemoPlantServer
from tests.support.os_accounts import ROOT_WITH_USERADD, os_accounts, python_for, run_system
from tests.support.runtimes import scripted_runtime
from tests.support.sites import new_site

from .serve_helpers import HeldModel, ask_as, enroll, running_service
from .signing_helpers import TAG, VALUE

CHANGE = f"Set the {TAG} to {VALUE:g}."

pytestmark = [
    pytest.mark.skipif(not ROOT_WITH_USERADD,
                       reason="needs root with useradd and runuser to create OS accounts"),
    pytest.mark.asyncio(loop_scope="module"),
]


def decide_as(login: str, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`plantagent ARGS --json` run by the OS account ``login``: only the service's socket
    and the account's own key file (recorded at enrolment), no site passphrase."""
    python, path = python_for(login)
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONPATH": path}
    return run_system(
        ["runuser", "-u", login, "--", "env", *(f"{k}={v}" for k, v in env.items()),
         python, "-c", "import sys; from agent.cli import main; sys.exit(main())",
         "--home", str(home), *args, "--json"],
        capture_output=True, text=True, timeout=600, check=False)


async def test_two_accounts_decide_each_as_themselves(
    live_plant: DemoPlantServer, shared_dir: Path
) -> None:
    group = f"pa{os.urandom(3).hex()}"
    with os_accounts(["alice", "bob"], group=group) as logins:
        home = new_site(shared_dir / "site")
        os.chown(home, -1, grp.getgrnam(group).gr_gid)
        home.chmod(0o710)
        async with scripted_runtime(home, live_plant.endpoint, HeldModel()) as runtime:
            admin = enroll(runtime, shared_dir, {})
            people = {"Alice": (logins["alice"], ["engineer", "shift_lead"]),
                      "Bob": (logins["bob"], ["engineer"])}
            for name, (login, roles) in people.items():
                key = shared_dir / f"{login}.key"
                write_key_file(key)
                runtime.people.enroll(by=admin, name=name, os_account=login, roles=roles,
                                      secret=KeySecret(key_file=key))
                # Each key file is its owner's alone (mode 600), as in real use.
                os.chown(key, pwd.getpwnam(login).pw_uid, -1)
            async with running_service(runtime, group=group):
                # Alice asks for the change through the service, from her own account.
                asked = await asyncio.to_thread(ask_as, logins["alice"], home, CHANGE)
                assert asked.returncode == 0, asked.stderr
                [request] = runtime.approvals.requests({"pending"})
                assert (request.requested_by, request.requested_account) == (
                    "Alice", logins["alice"])
                # In a thread: the service answers in this event loop.
                own = await asyncio.to_thread(decide_as, logins["alice"], home, "approve",
                                              request.id, "--no-execute", "--role", "engineer")
                assert own.returncode == 1, own.stdout
                assert "two-person rule" in own.stderr and "Traceback" not in own.stderr
                forged = await asyncio.to_thread(decide_as, logins["bob"], home, "approve",
                                                 request.id, "--no-execute", "--as", "Alice")
                assert forged.returncode == 1 and "can not act as 'Alice'" in forged.stderr
                done = await asyncio.to_thread(decide_as, logins["bob"], home, "approve",
                                               request.id, "--no-execute")
                assert done.returncode == 0, done.stderr
            decided = json.loads(done.stdout)["request"]
            assert decided["state"] == "approved"
            assert [a["person"] for a in decided["approvals"]] == [person_key("Bob")]
            records = [r for r in runtime.audit.search(kind="approval", text=request.id)
                       if r.payload.get("event") == "approved"]
            assert [r.actor for r in records] == ["Bob"]
            fresh = runtime.approvals.get(request.id)
            assert check_statement(runtime.people, fresh, "approve",
                                   records[0].payload["signed"]) == (person_key("Bob"),
                                                                     "engineer")
