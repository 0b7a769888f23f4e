"""Two REAL OS accounts approve one write through the command line, each as themselves:
the person acting is the one the OS account (os.getuid -> pwd) belongs to, whatever name
is typed. Needs root (useradd, runuser); the accounts are removed afterwards."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.approvals.authority import check_authority
from agent.people.keys import KeySecret, write_key_file
from agent.people.models import ADMIN_ROLE
from agent.runtime import SiteRuntime
from agent.settings import load_settings
from agent.vault.egress import permitting
from tests.support.people import sign_site_policies
from tests.support.sites import FAST_KDF, PASSPHRASE, new_site

from ..policy.policy_helpers import SITE_POLICY, make_catalog

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not (shutil.which("useradd") and shutil.which("runuser")),
    reason="needs root with useradd and runuser to create two real OS accounts",
)
PERSONAL = {"alice": "alice's own passphrase", "bob": "bob's own passphrase"}


def _run(argv: list[str], **options: Any) -> subprocess.CompletedProcess[Any]:
    """A system program the test needs (useradd, runuser, userdel), let past the egress
    guard the site's runtime installs in this process."""
    with permitting(argv[0]):
        return subprocess.run(argv, **options)


@pytest.fixture
def accounts() -> Iterator[dict[str, str]]:
    """Two fresh OS accounts (person name -> login), deleted after the test."""
    made: dict[str, str] = {}
    try:
        for person in PERSONAL:
            login = f"pa{secrets.token_hex(3)}{person}"
            _run(["useradd", "--no-create-home", "--shell", "/bin/sh", login],
                           check=True, capture_output=True)
            made[person] = login
        yield made
    finally:
        for login in made.values():
            _run(["userdel", login], check=False, capture_output=True)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory outside root's private tmp, reachable by the test accounts."""
    path = Path(tempfile.mkdtemp(prefix="pa-people-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _hand_to(home: Path, login: str) -> None:
    """The site's files belong to whoever runs the next command (a site has one owner
    at a time; the test hands it over between the two people)."""
    entry = pwd.getpwnam(login)
    for path in [home, *home.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def _python(login: str) -> tuple[str, str]:
    """An interpreter the account may run, and the PYTHONPATH it needs: this one, or
    (when it lives in root's private home) the system's of the same version with this
    environment's packages and the repository on its path."""
    if _run(["runuser", "-u", login, "--", "test", "-x", sys.executable],
                      check=False).returncode == 0:
        return sys.executable, ""
    system = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    packages = [p for p in sys.path if p.endswith("site-packages")]
    if not Path(system).is_file() or not packages:
        pytest.skip(f"no Python {sys.version_info.major}.{sys.version_info.minor} the test "
                    "accounts may run (this one is in a private directory)")
    return system, os.pathsep.join([str(REPO), *packages])


REPO = Path(__file__).resolve().parents[3]


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
