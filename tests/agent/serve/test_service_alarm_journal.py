"""`plantagent alarms record` when the site service runs: the service records the alarm
journal (it owns the plant connection), so the command says so instead of opening the
site; it has the service start the recorder when the server could not be subscribed to
at the service's start; a site whose settings turn the journal off gets the fix. Real
service over a real Unix socket, real encrypted site (no passphrase given to the client),
the real demo plant."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest

from agent.cli import main
from agent.errors import OpcUaError
from agent.people.identity import os_account
from agent.runtime import SiteRuntime
from plant.server import DemoPlantServer
from tools.opcua.alarms import event_log

from .serve_helpers import passphrase_site, running_service, until

pytestmark = pytest.mark.asyncio(loop_scope="module")

ALARM = "HX-101.CoolantFlow.Low"


async def _record(home: Path, capsys: pytest.CaptureFixture[str], *more: str
                  ) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, ["--home", str(home), "alarms", "record", *more])
    out, err = capsys.readouterr()
    return code, out, err


@asynccontextmanager
async def _site(plant: DemoPlantServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                **settings: Any) -> AsyncIterator[tuple[Path, SiteRuntime]]:
    """A passphrase site the client is not given the passphrase of, its runtime (a held
    model, ``settings``) and Rita Lead enrolled as the shift lead of this OS account."""
    async with passphrase_site(plant.endpoint, tmp_path, monkeypatch,
                               {"Rita Lead": (os_account(), ["shift_lead"])},
                               key_file_env=False, settings=settings or None) as site:
        yield site.home, site.runtime


async def test_the_service_records_the_journal_and_the_command_says_so(
    live_plant: DemoPlantServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _site(live_plant, tmp_path, monkeypatch) as (home, runtime), \
            running_service(runtime):
        code, out, err = await _record(home, capsys)
        assert code == 0, err
        assert "the site service records the alarm journal" in out
        assert live_plant.endpoint in out and "Traceback" not in err
        # Another server named through the service: refused, not silently ignored
        # (the service reads its own plant connection), by every command of the
        # plant; in this process (--no-service) it would be used.
        other = "opc.tcp://127.0.0.1:4999/elsewhere"
        for command in (["alarms", "record"], ["alarms", "report", "--since", "1h"],
                        ["alarms", "list"], ["handover", "--no-model"]):
            code = await asyncio.to_thread(main, ["--home", str(home), *command,
                                                  "--endpoint", other])
            out, err = capsys.readouterr()
            assert code == 2 and f"--endpoint {other} is not used through the site " \
                "service" in err, (command, err)
            assert "--no-service" in err and "Traceback" not in err


async def test_the_service_starts_the_journal_it_could_not_start(
    live_plant: DemoPlantServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    async def subscribed_from_the_second_time(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:  # the server refused the subscription when the service started
            raise OpcUaError("the server refused the event subscription",
                             fix="check the server's subscription limits")
        return await event_log(*args, **kwargs)

    async with _site(live_plant, tmp_path, monkeypatch) as (home, runtime):
        with patch("agent.runtime.plant_parts.event_log", subscribed_from_the_second_time):
            async with running_service(runtime):
                assert runtime.recording_journal is None and calls == [1]
                code, out, err = await _record(home, capsys)
                assert code == 0, err
                assert "was not recording the alarm journal; it records it now" in out
                journal = runtime.recording_journal
                assert journal is not None
                try:
                    await live_plant.force_alarm(ALARM, active=True)
                    await until(lambda: journal.recorded > 0, "the journal records the alarm")
                finally:
                    await live_plant.force_alarm(ALARM, active=False)
                code, out, err = await _record(home, capsys)
                assert code == 0 and "the site service records the alarm journal" in out, err


async def test_a_journal_turned_off_is_said_with_its_fix(
    live_plant: DemoPlantServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _site(live_plant, tmp_path, monkeypatch, alarms={"journal": False}) as (
            home, runtime), running_service(runtime):
        code, out, err = await _record(home, capsys)
    assert code == 2 and "journal = false" in err and "journal = true" in err, err
    assert "Traceback" not in err and out == ""
