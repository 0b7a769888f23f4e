"""`plantagent alarms ...` against the real demo plant and a real site: list, ack (and a
second ack), shelve through a request approved by an engineer, refusals with their fix,
the report with charts (matplotlib from the dev extra)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from agent.cli import main
from agent.people.identity import os_account
from agent.people.keys import KeySecret, write_key_file
from agent.runtime import SiteRuntime
from agent.settings import load_settings
from plant.server import DemoPlantServer
from tests.support.people import Staff, sign_site_policies

in_module_loop = pytest.mark.asyncio(loop_scope="module")


def _cli(home: Path, plant: DemoPlantServer, *args: str) -> list[str]:
    return ["--home", str(home), "alarms", *args, "--endpoint", plant.endpoint]


def _enrol(home: Path, name: str, operator: str) -> Staff:
    """``name`` acting from this one OS account (the site's signed policy allows it), and
    ``operator`` enrolled as this OS account's person (a shift lead)."""
    (home / "policies").mkdir(exist_ok=True)
    (home / "policies" / "people.toml").write_text("[people]\nmatch_os_account = false\n",
                                                   encoding="utf-8")
    with SiteRuntime(load_settings(home=home), audit_options={"export_dir": None}) as runtime:
        staff = Staff(runtime.people, home.parent / "keys", ["shift_lead", "engineer"])
        sign_site_policies(home, staff.admin)
        staff.signer(name)
        key = home.parent / "keys" / "operator.key"
        write_key_file(key)
        runtime.people.enroll(by=staff.admin, name=operator, os_account=os_account(),
                              roles=["shift_lead"], secret=KeySecret(key_file=key))
    return staff


@in_module_loop
async def test_list_ack_shelve_and_report(
    plant: DemoPlantServer, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "HX-101.CoolantFlow.Low"
    await plant.force_alarm(name, active=True)
    assert await asyncio.to_thread(main, _cli(home, plant, "list", "--json")) == 0
    rows = json.loads(capsys.readouterr().out)
    row = next(r for r in rows if r["name"] == name)
    assert (row["priority"], row["status"]) == ("medium", "unacknowledged")

    assert await asyncio.to_thread(main, _cli(home, plant, "ack", name, "--comment",
                                              "valve stuck, fitter called")) == 0
    out = capsys.readouterr().out
    assert f"{name} acknowledged" in out and "acknowledged=True" in out
    assert await asyncio.to_thread(main, _cli(home, plant, "ack", name)) == 0
    assert "is already acknowledged" in capsys.readouterr().out

    code = await asyncio.to_thread(main, _cli(home, plant, "shelve", name, "--for", "5m",
                                              "--reason", "fitter on the valve", "--json"))
    request = json.loads(capsys.readouterr().out)
    assert code == 0 and request["state"] == "pending"
    # Once people are enrolled, an OS account nobody has acts on no alarm (the settings'
    # free-text user counts only on a site where nobody is enrolled).
    staff = _enrol(home, "eve", operator="Olga Op")
    code = await asyncio.to_thread(main, _cli(home, plant, "approve", request["id"], "--as",
                                              "eve", "--key-file", str(staff.key_file("eve")),
                                              "--role", "engineer"))
    assert code == 0 and "(executed)" in capsys.readouterr().out
    assert plant.conditions[name].shelving == "TimedShelved"

    code = await asyncio.to_thread(main, _cli(home, plant, "shelve", name, "--for", "2h",
                                              "--reason", "longer"))
    err = capsys.readouterr().err
    assert code == 1 and "MaxTimeShelved" in err and "fix: shelve for at most 10 min" in err
    # The alarm's journal names the enrolled person of this OS account, not a label.
    code = await asyncio.to_thread(main, _cli(home, plant, "comment", name, "fitter done"))
    said = capsys.readouterr()
    assert code == 0, said.err
    with SiteRuntime(load_settings(home=home), audit_options={"export_dir": None}) as rt:
        actors = [r.actor for r in rt.audit.search(kind="tool_call")
                  if r.payload.get("tool") == "comment_alarm"]
    assert actors[-1] == "Olga Op", actors

    out_dir = tmp_path / "report"
    code = await asyncio.to_thread(main, _cli(home, plant, "report", "--since", "2h",
                                              "--out", str(out_dir), "--json"))
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["shelved"][0]["condition"] == name
    assert report["shelved"][0]["reason"] == "fitter on the valve"
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "alarm_rate.png", "bad_actors.png", "priority_split.png", "report.json", "report.md"]
    await plant.force_alarm(name, active=False)


def test_a_bad_duration_names_the_fix(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--home", str(home), "alarms", "shelve", "X.Y.High", "--for", "soon",
                 "--reason", "r", "--endpoint", "opc.tcp://127.0.0.1:9/"])
    assert code == 2 and "30m, 8h" in capsys.readouterr().err
