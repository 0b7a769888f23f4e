"""The register of enrolled people on a real encrypted site and its real audit log:
enrolment, look-alike names, personal keys, hand edits, disabling and re-keying."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.audit.log import AuditLog
from agent.audit.site import open_audit_log
from agent.errors import IntegrityError, PolicyDenied, UsageError, VaultError
from agent.people.identity import acting
from agent.people.keys import KeySecret, write_key_file
from agent.people.models import ADMIN_ROLE
from agent.people.register import PeopleRegister
from agent.people.statements import check_signature
from agent.vault import Site
from agent.vault.layout import PEOPLE_DATABASE
from tests.support.sites import FAST_KDF

ROLES = {"shift_lead", "engineer", "auditor", "triage_service"}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def audit(site: Site) -> Iterator[AuditLog]:
    log = open_audit_log(site, export_dir=None)
    yield log
    log.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def register(site: Site, audit: AuditLog, clock: Clock) -> PeopleRegister:
    return PeopleRegister(site.database(PEOPLE_DATABASE), audit, roles=ROLES, clock=clock,
                          kdf=FAST_KDF)


def _key(tmp_path: Path, name: str) -> KeySecret:
    path = tmp_path / f"{name}.key"
    write_key_file(path)
    return KeySecret(key_file=path)


def test_first_admin_then_people_enrolled_by_an_admin_every_change_audited(
    register: PeopleRegister, audit: AuditLog, tmp_path: Path
) -> None:
    with pytest.raises(UsageError, match="must be an administrator"):
        register.enroll(by=None, name="Ada", os_account="ada", roles=["engineer"],
                        secret=_key(tmp_path, "x"))
    ada_key = _key(tmp_path, "ada")
    ada = register.enroll(by=None, name="Ada Admin", os_account="ada",
                          roles=[ADMIN_ROLE, "engineer"], secret=ada_key)
    assert ada.key == "adaadmin" and ada.enrolled_by == "site-owner"
    with pytest.raises(PolicyDenied, match="already enrolled"):
        register.enroll(by=None, name="Eve", os_account="eve", roles=[ADMIN_ROLE],
                        secret=_key(tmp_path, "eve"))
    admin = register.unlock(ada, ada_key)
    carol = register.enroll(by=admin, name="Carol", os_account="carol", roles=["engineer"],
                            secret=KeySecret(passphrase="carol's own passphrase"))
    assert carol.enrolled_by == "adaadmin" and carol.sealed.protection == "passphrase"
    # A non-administrator enrols nobody.
    as_carol = register.unlock(carol, KeySecret(passphrase="carol's own passphrase"))
    with pytest.raises(PolicyDenied, match="not an enabled administrator"):
        register.enroll(by=as_carol, name="Mallory", os_account="mallory",
                        roles=["engineer"], secret=_key(tmp_path, "m"))
    changes = [r for r in audit.search(kind="config_change")
               if r.payload.get("event") == "people"]
    assert [(r.actor, r.payload["change"], r.payload["person"]) for r in changes] == [
        ("site-owner", "enrol", "adaadmin"), ("adaadmin", "enrol", "carol")]
    signed = changes[1].payload["signed"]
    assert isinstance(signed, dict) and isinstance(signed["statement"], dict)
    assert signed["statement"]["digest"] == changes[1].payload["digest"]
    record = changes[1].payload["record"]
    assert isinstance(record, dict) and "sealed" not in record  # no private key in the log
    assert audit.verify(include_export_dir=False).ok


@pytest.mark.parametrize("name", ["CAROL", " carol ", "Cárol", "Сarol", "C.arol", "car0l"])
def test_the_same_person_under_another_case_or_spelling_is_refused(
    register: PeopleRegister, tmp_path: Path, name: str
) -> None:
    ada_key = _key(tmp_path, "ada")
    admin = register.unlock(register.enroll(
        by=None, name="Ada", os_account="ada", roles=[ADMIN_ROLE], secret=ada_key), ada_key)
    register.enroll(by=admin, name="Carol", os_account="carol", roles=["engineer"],
                    secret=_key(tmp_path, "carol"))
    with pytest.raises(UsageError, match="same person as the enrolled 'Carol'") as info:
        register.enroll(by=admin, name=name, os_account="c2", roles=["engineer"],
                        secret=_key(tmp_path, "c2"))
    assert info.value.fix
    assert register.get(name).os_account == "carol"  # and it finds her under any of them


def test_wrong_personal_secret_and_someone_elses_key_file(
    register: PeopleRegister, tmp_path: Path
) -> None:
    ada_key = _key(tmp_path, "ada")
    ada = register.enroll(by=None, name="Ada", os_account="ada",
                          roles=[ADMIN_ROLE, "engineer"], secret=ada_key)
    admin = register.unlock(ada, ada_key)
    bob = register.enroll(by=admin, name="Bob", os_account="bob", roles=["engineer"],
                          secret=KeySecret(passphrase="bob's passphrase here"))
    with pytest.raises(VaultError, match="wrong personal passphrase for bob"):
        register.unlock(bob, KeySecret(passphrase="bob's passphrase HERE"))
    with pytest.raises(VaultError, match="wrong personal passphrase"):
        register.unlock(bob, ada_key)
    with pytest.raises(VaultError, match="wrong personal key file for ada"):
        register.unlock(ada, _key(tmp_path, "other"))


def test_a_hand_edited_enrolment_is_refused(
    register: PeopleRegister, site: Site, tmp_path: Path
) -> None:
    ada_key = _key(tmp_path, "ada")
    admin = register.unlock(register.enroll(
        by=None, name="Ada", os_account="ada", roles=[ADMIN_ROLE], secret=ada_key), ada_key)
    register.enroll(by=admin, name="Bob", os_account="bob", roles=["shift_lead"],
                    secret=_key(tmp_path, "bob"))
    conn = site.database(PEOPLE_DATABASE)
    (record,) = next(iter(conn.execute("SELECT record FROM people WHERE key = 'bob'")))
    # Someone with the site passphrase promotes Bob to engineer behind the register.
    conn.execute("UPDATE people SET record = ? WHERE key = 'bob'",
                 (record.replace('"shift_lead"', '"engineer"'),))
    with pytest.raises(IntegrityError, match="does not match the audit log") as info:
        register.get("bob")
    assert info.value.fix
    # A row inserted outside plantagent is refused the same way.
    conn.execute("INSERT INTO people(key, os_account, record) VALUES ('eve', 'eve', ?)",
                 (record.replace('"bob"', '"eve"'),))
    with pytest.raises(IntegrityError):
        register.get("eve")


def test_acting_only_as_the_os_accounts_person_in_their_own_roles(
    register: PeopleRegister, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada_key = _key(tmp_path, "ada")
    admin = register.unlock(register.enroll(
        by=None, name="Ada", os_account="ada", roles=[ADMIN_ROLE], secret=ada_key), ada_key)
    bob_key = _key(tmp_path, "bob")
    register.enroll(by=admin, name="Bob", os_account="bob", roles=["shift_lead"],
                    secret=bob_key)
    monkeypatch.setenv("PLANTAGENT_PERSON_KEYFILE", str(bob_key.key_file))
    me = acting(register, account="bob")
    assert (me.name, me.role) == ("Bob", "shift_lead")
    with pytest.raises(PolicyDenied, match="can not act as 'Ada'"):
        acting(register, account="bob", name="Ada")
    assert acting(register, account="bob", name="BOB").key == "bob"
    with pytest.raises(PolicyDenied, match="does not have the role 'engineer'"):
        acting(register, account="bob", role="engineer")
    with pytest.raises(PolicyDenied, match="not enrolled"):
        acting(register, account="mallory")
    register.disable(by=admin, name="bob")
    with pytest.raises(PolicyDenied, match="disabled"):
        acting(register, account="bob")


def test_rotated_keys_stay_verifiable_for_what_they_signed_before(
    register: PeopleRegister, tmp_path: Path, clock: Clock
) -> None:
    ada_key = _key(tmp_path, "ada")
    ada = register.enroll(by=None, name="Ada", os_account="ada",
                          roles=[ADMIN_ROLE, "engineer"], secret=ada_key)
    old = register.unlock(ada, ada_key)
    before = old.sign({"type": "test", "n": 1}, now=clock())
    clock.now += timedelta(minutes=5)
    new_key = _key(tmp_path, "ada2")
    rotated = register.rotate_key(by=old, name="ada", secret=new_key)
    assert len(rotated.keys) == 2 and rotated.keys[0].retired_at == clock.now
    check_signature(register.get("ada"), before)  # signed before: still valid
    clock.now += timedelta(minutes=1)
    late = old.sign({"type": "test", "n": 2}, now=clock())
    with pytest.raises(IntegrityError, match="retired"):
        check_signature(register.get("ada"), late)
    with pytest.raises(VaultError):
        register.unlock(rotated, ada_key)
    fresh = register.unlock(rotated, new_key).sign({"type": "test"}, now=clock())
    check_signature(register.get("ada"), fresh)
    forged = fresh.model_copy(update={"statement": {**fresh.statement, "type": "other"}})
    with pytest.raises(IntegrityError, match="does not verify"):
        check_signature(register.get("ada"), forged)
