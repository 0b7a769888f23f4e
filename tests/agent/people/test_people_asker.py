"""The asker of a question comes from the register (the OS account's person), not from
`--as` or $USER; an unknown account asks only where the site's signed policy says so;
the demo asks as its demo operator, proven by the operator's key file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.cli import main
from agent.errors import PlantAgentError, PolicyDenied
from agent.people.demo import DEMO_OPERATOR
from agent.people.identity import Asker, identify_asker, os_account
from agent.people.keys import KeySecret, write_key_file
from agent.people.register import PeopleRegister
from agent.runtime import SiteRuntime
from agent.service.service import shown_approver
from agent.settings import load_settings
from plant.cli.demo_cmd import ensure_demo_site
from tests.support.people import Staff
from tests.support.sites import new_site


def _asker(register: PeopleRegister, account: str, **selected: Any) -> Asker:
    """The asker from ``account`` where the settings say user "root", role shift_lead."""
    return identify_asker(register, settings_name="root", settings_role="shift_lead",
                          account=account, **selected)


def _runtime(home: Path, **agent: str) -> SiteRuntime:
    settings = load_settings(home=home, agent=agent) if agent else load_settings(home=home)
    return SiteRuntime(settings, audit_options={"export_dir": None})


def _people(register: PeopleRegister, keys: Path) -> Staff:
    staff = Staff(register, keys, ["shift_lead", "engineer"])
    staff.signer("carol")  # account carol-os, key file keys/carol.key
    staff.signer("bob")
    return staff


def test_the_asker_is_the_person_of_the_os_account(tmp_path: Path) -> None:
    home = new_site(tmp_path / "site")
    with _runtime(home) as rt:
        # Nobody enrolled: a single-user site asks under the settings' name, as before.
        assert _asker(rt.people, "carol-os") == Asker(
            "root", "shift_lead", enrolled=False)
        _people(rt.people, tmp_path / "keys")
        assert _asker(rt.people, "carol-os") == Asker(
            "carol", "shift_lead", enrolled=True)
        assert _asker(rt.people, "carol-os", name="CAROL", role="engineer").role == "engineer"
        with pytest.raises(PolicyDenied, match="you can not ask as 'bob'"):
            _asker(rt.people, "carol-os", name="bob")
        with pytest.raises(PolicyDenied, match="does not have the role 'auditor'"):
            _asker(rt.people, "carol-os", role="auditor")
        # An account nobody has: refused, unless the site's policy lets it ask.
        with pytest.raises(PolicyDenied, match="'mallory-os' is not enrolled") as refused:
            _asker(rt.people, "mallory-os", name="carol")
        assert "unenrolled_may_ask" in str(refused.value.fix)
        assert _asker(rt.people, "mallory-os", unenrolled_may_ask=True) == Asker(
            "root", "shift_lead", enrolled=False)


def test_on_a_shared_account_site_the_named_person_proves_it_with_their_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = new_site(tmp_path / "site")
    with _runtime(home) as rt:
        staff = _people(rt.people, tmp_path / "keys")
        asker = _asker(rt.people, "carol-os", name="bob", match_os_account=False)
        assert asker == Asker("bob", "shift_lead", enrolled=True)  # bob's key file opened
        # Someone else's key file for bob: refused.
        monkeypatch.setenv("PLANTAGENT_PERSON_KEYFILE", str(staff.key_file("carol")))
        with pytest.raises(PlantAgentError, match="wrong personal key file for bob"):
            _asker(rt.people, "carol-os", name="bob", match_os_account=False)
        with pytest.raises(PolicyDenied, match="nobody named 'zed' is enrolled"):
            _asker(rt.people, "carol-os", name="zed", match_os_account=False)


def test_ask_takes_the_asker_from_the_register(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = new_site(tmp_path / "site")
    with _runtime(home) as rt:
        staff = _people(rt.people, tmp_path / "keys")
        key = tmp_path / "keys" / "me.key"
        write_key_file(key)
        rt.people.enroll(by=staff.admin, name="Me Myself", os_account=os_account(),
                         roles=["shift_lead"], secret=KeySecret(key_file=key))
        assert rt.asker() == Asker("Me Myself", "shift_lead", enrolled=True)
        # The UI shows whom its decisions are signed as: the same person.
        assert shown_approver(rt) == ("Me Myself", "shift_lead")
    # `--as` names someone else: refused before any model or plant is touched.
    assert main(["--home", str(home), "ask", "What is the flow of P-101?", "--as",
                 "carol"]) == 1
    assert "you can not ask as 'carol'" in capsys.readouterr().err
    # $USER / the settings' user is no identity either.
    with _runtime(home, user="carol") as rt:
        assert rt.asker().name == "Me Myself"


def test_the_demo_asks_as_its_operator(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "demo",
                             agent={"user": DEMO_OPERATOR, "role": "shift_lead"})
    ensure_demo_site(settings)
    with SiteRuntime(settings, audit_options={"export_dir": None}) as rt:
        assert rt.asker() == Asker(DEMO_OPERATOR, "shift_lead", enrolled=True)
