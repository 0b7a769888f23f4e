"""`plantagent demo`'s site enrols a demo engineer (this OS account, also the site's
administrator) and a demo operator, their keys in key files inside the demo site."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from agent.approvals import ApprovalRefused
from agent.people.demo import DEMO_ENGINEER, DEMO_OPERATOR, KEY_DIR
from agent.people.identity import Acting, acting, os_account
from agent.people.keys import KeySecret
from agent.people.models import ADMIN_ROLE
from agent.runtime import SiteRuntime
from agent.settings import load_settings
from plant.cli.demo_cmd import ensure_demo_site
from tests.support.people import sign_site_policies

from ..policy.policy_helpers import SITE_POLICY, make_catalog


def test_the_demo_site_enrols_its_people_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(home=tmp_path / "demo")
    ensure_demo_site(settings)
    err = capsys.readouterr().err
    assert f"enrolled {DEMO_ENGINEER} (engineer and administrator: your OS account" in err
    assert f"{DEMO_OPERATOR} (shift lead)" in err
    keys = sorted((settings.home / KEY_DIR).iterdir())
    assert [k.name for k in keys] == ["demo-engineer.key", "demo-operator.key"]
    assert all(stat.S_IMODE(k.stat().st_mode) == 0o600 for k in keys)
    ensure_demo_site(settings)  # again: nobody new
    assert "enrolled" not in capsys.readouterr().err

    # The demo's own signed policy: its people share this OS account.
    assert (settings.home / "policies" / "demo-people.toml.sig").is_file()
    (settings.home / "policies" / "test.toml").write_text(SITE_POLICY, encoding="utf-8")
    with SiteRuntime(load_settings(home=settings.home),
                     audit_options={"export_dir": None}) as runtime:
        # The test's writable nodes, signed by the demo engineer (the site's administrator).
        sign_site_policies(settings.home, acting(runtime.people, role=ADMIN_ROLE).signer)
        people = runtime.people.people()
        assert {(p.name, p.os_account) for p in people} == {
            (DEMO_ENGINEER, os_account()), (DEMO_OPERATOR, "demo-operator")}
        request = runtime.approvals.propose_for_tag(
            actor="demo-operator", role="shift_lead", catalog=make_catalog(),
            tag="T-101.LevelSetpoint", value=58.0, reason="demo")
        operator = runtime.people.get(DEMO_OPERATOR)
        as_operator = Acting(runtime.people.unlock(operator, KeySecret(
            key_file=settings.home / KEY_DIR / "demo-operator.key")), "shift_lead")
        with pytest.raises(ApprovalRefused, match="may not approve"):
            runtime.approvals.approve(request.id, as_operator)
        engineer = runtime.acting()  # this OS account: the demo engineer, key file recorded
        approved = runtime.approvals.approve(request.id, engineer)
        assert approved.state == "approved" and approved.decided_by == DEMO_ENGINEER
