"""Helpers of the site service tests: people enrolled under real OS account names, a
passphrase site the service unlocks and no client is given, a model that holds its step
until released, the service run in the test's event loop, and waiting on conditions
(never on the clock)."""

from __future__ import annotations

import asyncio
import subprocess
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent.llm.base import ChatMessage, JsonSchema, StepResult, TokenCallback
from agent.llm.scripted import ScriptedModel
from agent.people.identity import os_account
from agent.people.keys import PERSON_KEYFILE_ENV, KeySecret, write_key_file
from agent.people.models import ADMIN_ROLE
from agent.people.statements import PersonalSigner
from agent.runtime import SiteRuntime
from agent.serve.daemon import run_site_service
from agent.serve.server import SiteServer
from agent.vault.passphrase import PASSPHRASE_ENV
from tests.support.os_accounts import python_for, run_system
from tests.support.runtimes import scripted_runtime
from tests.support.sites import new_site

QUESTION = "Is P-101 running within its limits?"
ANSWER = "P-101 is running and its readings are inside the normal ranges."
#: The passphrase of the service tests' sites: the service has it (as from its
#: credential), the clients are not given it (a test sets it for --no-service runs only).
SITE_PASSPHRASE = "a site passphrase the service reads from its credential"


def final(text: str = ANSWER) -> dict[str, Any]:
    """A scripted final answer step citing the first evidence (the reading of the
    equipment the question names, taken before the model is asked)."""
    return {"action": "final_answer", "answer": text, "citations": ["E1"]}


def enroll(runtime: SiteRuntime, key_dir: Path, people: dict[str, str],
           *, admin_account: str = "nobody-admin") -> PersonalSigner:
    """Enrol ``people`` (name -> OS account) as shift leads, after a first administrator
    of the account ``admin_account`` (returned, able to sign); keys in key files under
    ``key_dir``."""
    register = runtime.people
    admin_key = key_dir / "admin.key"
    write_key_file(admin_key)
    admin = register.unlock(register.enroll(
        by=None, name="Site Admin", os_account=admin_account, roles=[ADMIN_ROLE],
        secret=KeySecret(key_file=admin_key)), KeySecret(key_file=admin_key))
    for name, account in people.items():
        path = key_dir / f"{account}.key"
        write_key_file(path)
        register.enroll(by=admin, name=name, os_account=account, roles=["shift_lead"],
                        secret=KeySecret(key_file=path))
    return admin


def enroll_people(runtime: SiteRuntime, key_dir: Path,
                  people: dict[str, tuple[str, list[str]]]) -> PersonalSigner:
    """Enrol ``people`` (name -> (OS account, roles)), each with a key file
    ``key_dir/ACCOUNT.key``; returns the first administrator."""
    admin = enroll(runtime, key_dir, {})
    for name, (account, roles) in people.items():
        path = key_dir / f"{account}.key"
        write_key_file(path)
        runtime.people.enroll(by=admin, name=name, os_account=account, roles=roles,
                              secret=KeySecret(key_file=path))
    return admin


@dataclass(frozen=True)
class ServiceSite:
    """A passphrase site, its runtime and its first administrator; ``key_file`` is the
    personal key file of this process's OS account."""

    home: Path
    runtime: SiteRuntime
    admin: PersonalSigner
    key_file: Path


#: Who to enrol: name -> (OS account, roles), or a function enrolling them (runtime, key
#: directory) and returning the first administrator.
People = dict[str, tuple[str, list[str]]] | Callable[[SiteRuntime, Path], PersonalSigner]


@asynccontextmanager
async def passphrase_site(endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          people: People, *, key_file_env: bool = True,
                          settings: dict[str, Any] | None = None
                          ) -> AsyncIterator[ServiceSite]:
    """A fresh passphrase site under ``tmp_path`` and its runtime (the plant at
    ``endpoint``, a HeldModel, ``settings``), unlocked with SITE_PASSPHRASE, which the
    environment then no longer holds; ``people`` enrolled with key files in
    ``tmp_path``, this OS account's in PLANTAGENT_PERSON_KEYFILE if ``key_file_env``."""
    home = new_site(tmp_path / "site", passphrase=SITE_PASSPHRASE)
    key_file = tmp_path / f"{os_account()}.key"
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    if key_file_env:
        monkeypatch.setenv(PERSON_KEYFILE_ENV, str(key_file))
    async with scripted_runtime(home, endpoint, HeldModel(), passphrase=SITE_PASSPHRASE,
                                settings=settings) as runtime:
        admin = (people(runtime, tmp_path) if callable(people)
                 else enroll_people(runtime, tmp_path, people))
        yield ServiceSite(home, runtime, admin, key_file)


class HeldModel(ScriptedModel):
    """A scripted model whose steps wait (sending empty heartbeat tokens, where a
    cancelled question's callback raises) while ``hold`` is set; ``entered`` counts the
    steps begun."""

    def __init__(self, steps: Sequence[str | dict[str, Any] | BaseException] = ()) -> None:
        super().__init__(steps)
        self.hold = threading.Event()
        self.entered = 0

    def step(self, prefix: Sequence[ChatMessage], history: Sequence[ChatMessage],
             schema: JsonSchema, *, on_token: TokenCallback | None = None,
             max_tokens: int = 512) -> StepResult:
        """The next scripted step, once ``hold`` is cleared."""
        self.entered += 1
        while self.hold.is_set():
            threading.Event().wait(0.02)
            if on_token is not None:
                on_token("")
        return super().step(prefix, history, schema, on_token=on_token,
                            max_tokens=max_tokens)


@asynccontextmanager
async def running_service(runtime: SiteRuntime, **options: Any
                          ) -> AsyncIterator[SiteServer]:
    """`plantagent serve` over ``runtime`` in this event loop (no triage unless asked),
    stopped on exit."""
    options.setdefault("triage", False)
    stop = asyncio.Event()
    ready: asyncio.Future[SiteServer] = asyncio.get_running_loop().create_future()
    task: asyncio.Future[Any] = asyncio.create_task(
        run_site_service(runtime, stop, ready=ready.set_result, **options))
    both: set[asyncio.Future[Any]] = {task, ready}
    done, _ = await asyncio.wait(both, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raised before it was ready
    try:
        yield ready.result()
    finally:
        stop.set()
        await task


async def until(condition: Callable[[], bool], what: str, *, limit_s: float = 20.0) -> None:
    """Wait until ``condition()`` holds (checked often); a generous limit only turns a
    hang into a failure naming ``what``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.01)


def cancelled_answers(runtime: SiteRuntime) -> list[dict[str, Any]]:
    """The audit log's cancelled answers (payload and actor)."""
    return [{**r.payload, "actor": r.actor} for r in runtime.audit.search(kind="answer")
            if r.payload.get("outcome") == "cancelled"]


def ask_as(login: str, home: Path, question: str) -> subprocess.CompletedProcess[str]:
    """`plantagent ask --json` run by the OS account ``login``: no passphrase, no model,
    only the service's socket."""
    python, path = python_for(login)
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONPATH": path}
    return run_system(
        ["runuser", "-u", login, "--", "env", *(f"{k}={v}" for k, v in env.items()),
         python, "-c", "import sys; from agent.cli import main; sys.exit(main())",
         "--home", str(home), "ask", question, "--json"],
        capture_output=True, text=True, timeout=600, check=False)
