"""Two REAL OS accounts approve one write through the command line, each as themselves:
the person acting is the one the OS account (os.getuid -> pwd) belongs to, whatever name
is typed. Needs root (useradd, runuser); the accounts are removed afterwards."""

from __future__ import annotations

import os
import pwd
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.approvals.authority import check_authority
from agent.people.keys import KeySecret, write_key_file
from agent.people.models import ADMIN_ROLE
from agent.runtime import SiteRuntime
from agent.settings import load_settings
from tests.support.os_accounts import (
    ROOT_WITH_USERADD,
    os_accounts,
    python_for,
    run_system,
    shared_tmp_dir,
)
from tests.support.people import sign_site_policies
from tests.support.sites import FAST_KDF, PASSPHRASE, new_site

from ..policy.policy_helpers import SITE_POLICY, make_catalog

pytestmark = pytest.mark.skipif(
    not ROOT_WITH_USERADD,
    reason="needs root with useradd and runuser to create two real OS accounts",
)
PERSONAL = {"alice": "alice's own passphrase", "bob": "bob's own passphrase"}
_run = run_system
_python = python_for


@pytest.fixture
def accounts() -> Iterator[dict[str, str]]:
    """Two fresh OS accounts (person name -> login), deleted after the test."""
    with os_accounts(PERSONAL) as made:
        yield made


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory outside root's private tmp, reachable by the test accounts."""
    with shared_tmp_dir("pa-people-") as path:
        yield path


def _hand_to(home: Path, login: str) -> None:
    """The site's files belong to whoever runs the next command (a site has one owner
    at a time; the test hands it over between the two people)."""
    entry = pwd.getpwnam(login)
    for path in [home, *home.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def _cli(home: Path, login: str, person: str, *argv: str) -> subprocess.CompletedProcess[str]:
    python, path = _python(login)
    _hand_to(home, login)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home.parent), "LANG": "C.UTF-8",
           "PLANTAGENT_PASSPHRASE": PASSPHRASE, "PYTHONPATH": path,
           "PLANTAGENT_PERSON_PASSPHRASE": PERSONAL[person]}
    done = _run(
        ["runuser", "-u", login, "--", "env", *(f"{k}={v}" for k, v in env.items()),
         python, "-c", "import sys; from agent.cli import main; sys.exit(main())",
         "--home", str(home), *argv],
        capture_output=True, text=True, timeout=120, check=False)
    _hand_to(home, "root")
    return done


def test_two_real_accounts_approve_as_themselves(
    accounts: dict[str, str], shared_dir: Path
) -> None:
    home = new_site(shared_dir / "site", passphrase=PASSPHRASE)
    (home / "policies").mkdir()
    (home / "policies" / "test.toml").write_text(
        SITE_POLICY + "\n", encoding="utf-8")
    (home / "policies" / "two.toml").write_text("[writes]\napprovals = 2\n", encoding="utf-8")
    settings = load_settings(home=home)
    admin_key = shared_dir / "admin.key"
    write_key_file(admin_key)
    with SiteRuntime(settings, passphrase=PASSPHRASE, people_kdf=FAST_KDF,
                     audit_options={"export_dir": None}) as runtime:
        admin = runtime.people.unlock(runtime.people.enroll(
            by=None, name="Site Admin", os_account="root", roles=[ADMIN_ROLE],
            secret=KeySecret(key_file=admin_key)), KeySecret(key_file=admin_key))
        for person, login in accounts.items():
            runtime.people.enroll(by=admin, name=person.title(), os_account=login,
                                  roles=["engineer"],
                                  secret=KeySecret(passphrase=PERSONAL[person]))
        sign_site_policies(home, admin)  # the test's writable nodes and two approvers
        request_id = runtime.approvals.propose_for_tag(
            actor="ann", role="shift_lead", catalog=make_catalog(),
            tag="T-101.LevelSetpoint", value=58.0, reason="level runs low").id

    alice, bob = accounts["alice"], accounts["bob"]
    # Alice's account can not act as Bob, whatever she types.
    done = _cli(home, alice, "alice", "approve", request_id, "--as", "Bob", "--no-execute")
    assert done.returncode == 1 and "can not act as 'Bob'" in done.stderr, done.stderr
    # Nor with Bob's passphrase: the account decides who she is, and her key is hers.
    done = _cli(home, alice, "bob", "approve", request_id, "--no-execute")
    assert done.returncode == 2 and "wrong personal passphrase for alice" in done.stderr

    done = _cli(home, alice, "alice", "approve", request_id, "--no-execute")
    assert done.returncode == 0, done.stderr
    assert "is pending; signed approvals: alice (engineer)" in done.stdout
    done = _cli(home, alice, "alice", "approve", request_id, "--no-execute")
    assert done.returncode == 1 and "counts once" in done.stderr
    done = _cli(home, bob, "bob", "approve", request_id, "--no-execute")
    assert done.returncode == 0, done.stderr
    assert "is approved; signed approvals: alice (engineer), bob (engineer)" in done.stdout

    with SiteRuntime(settings, passphrase=PASSPHRASE,
                     audit_options={"export_dir": None}) as runtime:
        request = runtime.approvals.get(request_id)
        approvers = check_authority(runtime.audit, runtime.people, runtime.policy, request,
                                    {"engineer"})
        assert approvers == ["alice", "bob"]
        records = [r for r in runtime.audit.search(kind="approval", text=request_id)
                   if r.payload.get("event") == "approved"]
        assert [r.actor for r in records] == ["Alice", "Bob"]
