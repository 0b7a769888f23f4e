"""Signed handover acknowledgements: the incoming shift lead acknowledges with their own
key, recorded in the audit log and verified like approvals; someone who is not an
enrolled shift lead (or operator), the handover's author, a disabled person and a forged
or moved acknowledgement are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.audit.log import AuditLog
from agent.cli import main
from agent.errors import IntegrityError, PolicyDenied
from agent.handover.ack import ACK_EVENT, acknowledge, acknowledgements, find_handover
from agent.people.log_check import check_personal_signatures
from agent.people.register import PeopleRegister
from agent.runtime import SiteRuntime
from agent.settings import load_settings
from tests.support.people import Staff, sign_site_policies
from tests.support.sites import new_site


def _handover(audit: AuditLog, author: str = "ann") -> int:
    """A handover as `plantagent handover` records it (its lines do not matter here)."""
    return audit.append("handover", author, {"lines": [], "notes": []},
                        role="shift_lead").seq


@pytest.fixture
def site_home(tmp_path: Path) -> Path:
    """A demo-key site whose people act by name from this one OS account (signed)."""
    home = new_site(tmp_path / "site")
    (home / "policies").mkdir()
    (home / "policies" / "people.toml").write_text(
        "[people]\nmatch_os_account = false\n", encoding="utf-8")
    with SiteRuntime(load_settings(home=home), audit_options={"export_dir": None}) as rt:
        staff = Staff(rt.people, tmp_path / "keys", ["shift_lead", "engineer"])
        sign_site_policies(home, staff.admin)
    return home


def _runtime(home: Path) -> SiteRuntime:
    return SiteRuntime(load_settings(home=home), audit_options={"export_dir": None})


def _staff(people: PeopleRegister, home: Path) -> Staff:
    return Staff(people, home.parent / "keys", ["shift_lead", "engineer"])


def test_the_incoming_shift_lead_acknowledges_with_their_own_key(site_home: Path) -> None:
    with _runtime(site_home) as rt:
        staff = _staff(rt.people, site_home)
        seq = _handover(rt.audit)
        handover = find_handover(rt.audit)
        assert handover.seq == seq
        record = acknowledge(rt.audit, rt.people, staff("bob", "shift_lead"), handover,
                             "took over, P-101 watched")
        assert record.payload["event"] == ACK_EVENT and record.actor == "bob"
        done = acknowledgements(rt.audit, rt.people, handover)
        assert [(a.person, a.role, a.note) for a in done] == [
            ("bob", "shift_lead", "took over, P-101 watched")]
        # The offline check of every personal signature verifies it too.
        check = check_personal_signatures(rt.audit.search())
        assert not check.problems and "bob" in check.signers
        assert rt.audit.verify(include_export_dir=False).ok
        with pytest.raises(PolicyDenied, match="already acknowledged"):
            acknowledge(rt.audit, rt.people, staff("bob", "shift_lead"), handover)


def test_who_may_not_acknowledge_is_refused(site_home: Path) -> None:
    with _runtime(site_home) as rt:
        staff = _staff(rt.people, site_home)
        _handover(rt.audit, author="Ann")
        handover = find_handover(rt.audit)
        before = rt.audit.size()
        with pytest.raises(PolicyDenied, match="only an enrolled shift_lead or operator"):
            acknowledge(rt.audit, rt.people, staff("eve", "engineer"), handover)
        with pytest.raises(PolicyDenied, match="wrote handover"):  # its author, any case
            acknowledge(rt.audit, rt.people, staff("ANN", "shift_lead"), handover)
        dave = staff("dave", "shift_lead")
        rt.people.disable(by=staff.admin, name="dave")
        after_disable = rt.audit.size()
        with pytest.raises(PolicyDenied, match="not an enrolled, enabled person"):
            acknowledge(rt.audit, rt.people, dave, handover)
        assert rt.audit.size() == after_disable > before  # only the register change
        assert acknowledgements(rt.audit, rt.people, handover) == []


def test_a_moved_or_unsigned_acknowledgement_is_refused(site_home: Path) -> None:
    with _runtime(site_home) as rt:
        staff = _staff(rt.people, site_home)
        _handover(rt.audit)
        first = find_handover(rt.audit)
        signed = acknowledge(rt.audit, rt.people, staff("bob", "shift_lead"), first)
        second_seq = _handover(rt.audit)
        second = find_handover(rt.audit)
        assert second.seq == second_seq
        # Bob's signed acknowledgement of the first handover, copied onto the second.
        moved = {**signed.payload, "handover": second.seq, "handover_hash": second.hash}
        rt.audit.append("handover", "bob", moved, role="shift_lead")
        with pytest.raises(IntegrityError, match="not of handover"):
            acknowledgements(rt.audit, rt.people, second)
        assert check_personal_signatures(rt.audit.search()).problems


def test_handover_ack_from_the_command_line(
    site_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with _runtime(site_home) as rt:
        staff = _staff(rt.people, site_home)
        staff.signer("bob")
        staff.signer("eve")
        seq = _handover(rt.audit)
    base = ["--home", str(site_home), "handover"]
    key = ["--key-file", str(staff.key_file("bob"))]
    assert main([*base, "acks"]) == 0
    assert "not acknowledged yet" in capsys.readouterr().out
    assert main([*base, "ack", "--as", "eve", "--role", "engineer", "--key-file",
                 str(staff.key_file("eve"))]) == 1
    assert "only an enrolled shift_lead or operator" in capsys.readouterr().err
    assert main([*base, "ack", "--as", "bob", "--role", "shift_lead", *key,
                 "--note", "all clear"]) == 0
    assert f"bob (shift_lead) acknowledged handover {seq}" in capsys.readouterr().out
    assert main([*base, "acks", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["handover"] == seq
    assert [(a["person"], a["note"]) for a in listed["acknowledgements"]] == [
        ("bob", "all clear")]
    assert main([*base, "ack", "--seq", "1", "--as", "bob", *key]) == 2
    assert "is not a handover" in capsys.readouterr().err
