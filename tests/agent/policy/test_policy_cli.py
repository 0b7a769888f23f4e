"""`plantagent policy show|check`, `approvals list|show|execute`, `approve`, `deny`."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from agent.cli import main
from agent.runtime import SiteRuntime
from agent.settings import load_settings
from tests.support.people import Staff, sign_site_policies
from tests.support.sites import new_site

from .policy_helpers import SITE_POLICY, UaPlant, make_catalog, make_policy, start_test_plant

T = TypeVar("T")


class ThreadedPlant:
    """The test server on its own event loop in a thread, so the CLI can asyncio.run."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def __enter__(self) -> ThreadedPlant:
        self.thread.start()
        self.plant: UaPlant = self.run(start_test_plant())
        return self

    def __exit__(self, *exc: object) -> None:
        self.run(self.plant.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def policy_home(tmp_path: Path) -> Path:
    """A demo-key site whose policy adds the test's write rules (new writable nodes:
    signed by the site's administrator)."""
    home = new_site(tmp_path / "site")
    (home / "policies").mkdir()
    (home / "policies" / "test.toml").write_text(SITE_POLICY, encoding="utf-8")
    _enrol(home)
    return home


def _enrol(home: Path, *names: str) -> Staff:
    """People acting by name from this one OS account (the site's signed policy allows
    it)."""
    (home / "policies" / "people.toml").write_text(
        "[people]\nmatch_os_account = false\n", encoding="utf-8")
    with SiteRuntime(load_settings(home=home), audit_options={"export_dir": None}) as runtime:
        staff = Staff(runtime.people, home.parent / "keys", ["shift_lead", "engineer"])
        sign_site_policies(home, staff.admin)
        for name in names:
            staff.signer(name)
        return staff


def _key(staff: Staff, name: str) -> list[str]:
    return ["--as", name, "--key-file", str(staff.key_file(name))]


def _propose(home: Path, *values: float) -> list[str]:
    with SiteRuntime(load_settings(home=home), audit_options={"export_dir": None}) as runtime:
        # the site's file holds the test's rules
        assert runtime.policy.writes == make_policy().writes
        return [runtime.approvals.propose_for_tag(
            actor="ann", role="shift_lead", catalog=make_catalog(),
            tag="T-101.LevelSetpoint", value=v, reason="low").id for v in values]


def test_policy_check_json_and_text(
    policy_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--home", str(policy_home), "policy", "check", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] is True
    assert data["files"][-1] == str(policy_home / "policies" / "test.toml")
    assert data["budgets_effective"]["triage_service"]["max_steps"] == 6
    assert data["policy"]["writes"]["rules"][0]["name"] == "tank level setpoint"
    assert main(["--home", str(policy_home), "policy", "show"]) == 0
    out = capsys.readouterr().out
    assert "triage_service (service)" in out and "tank level setpoint" in out


def test_policy_check_fails_on_a_broken_file(
    policy_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (policy_home / "policies" / "roles.toml").write_text(
        '[roles.engineer]\ntols = ["read_*"]\n', encoding="utf-8")
    assert main(["--home", str(policy_home), "policy", "check"]) == 2
    err = capsys.readouterr().err
    assert "roles.toml" in err and "roles.engineer.tols" in err
    assert "did you mean 'tools'" in err


def test_approve_deny_list_from_the_command_line(
    policy_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = _propose(policy_home, 58.0, 57.0)
    staff = _enrol(policy_home, "ann", "bob", "carol")
    base = ["--home", str(policy_home)]
    assert main([*base, "approvals", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {r["id"] for r in listed} == {first, second}
    assert all(r["state"] == "pending" for r in listed)

    # The requester may not approve; nor may a shift lead.
    assert main([*base, "approve", first, *_key(staff, "ann"), "--role", "engineer"]) == 1
    assert "two-person rule" in capsys.readouterr().err
    assert main([*base, "approve", first, *_key(staff, "bob"), "--role", "shift_lead"]) == 1
    assert "may not approve" in capsys.readouterr().err
    # Nobody signs with another person's key.
    assert main([*base, "approve", first, "--as", "carol", "--key-file",
                 str(staff.key_file("bob")), "--role", "engineer"]) == 2
    assert "wrong personal key file for carol" in capsys.readouterr().err

    assert main([*base, "approve", first, *_key(staff, "carol"), "--role", "engineer",
                 "--no-execute"]) == 0
    assert f"{first} is approved; signed approvals: carol (engineer)" in (
        capsys.readouterr().out)
    assert main([*base, "deny", second, *_key(staff, "carol"), "--role", "engineer",
                 "--note", "one change at a time"]) == 0
    capsys.readouterr()
    assert main([*base, "approvals", "list", "--state", "denied", "--json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [second]
    assert main([*base, "approvals", "show", "AP-nope"]) == 2
    assert "approvals list" in capsys.readouterr().err


def test_execute_writes_through_the_cli(
    policy_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (request_id,) = _propose(policy_home, 58.0)
    staff = _enrol(policy_home, "carol")
    with ThreadedPlant() as threaded:
        (policy_home / "plantagent.toml").write_text(
            f'[opcua]\nendpoint = "{threaded.plant.endpoint}"\ntimeout_s = 3\n', encoding="utf-8")
        base = ["--home", str(policy_home)]
        assert main([*base, "approve", request_id, *_key(staff, "carol"), "--role",
                     "engineer", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["request"]["state"] == "executed"
        assert out["write"]["old_value"] == 55.0 and out["write"]["read_back"] == 58.0
        assert threaded.run(threaded.plant.value("T-101.LevelSetpoint")) == 58.0
        # Used once: executing again is refused.
        assert main([*base, "approvals", "execute", request_id, *_key(staff, "carol"),
                     "--role", "engineer"]) == 1
        assert "already used" in capsys.readouterr().err



def test_policy_check_refuses_an_unknown_configured_role(
    policy_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (policy_home / "plantagent.toml").write_text('[agent]\nrole = "shiftlead"\n', encoding="utf-8")
    assert main(["--home", str(policy_home), "policy", "check"]) == 2
    err = capsys.readouterr().err
    assert "'shiftlead' is not a role" in err and "shift_lead" in err
