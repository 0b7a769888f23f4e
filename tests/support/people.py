"""Enrolled people for tests: real registers, real personal keys in key files (no slow
key derivation), acting on demand under any name."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from agent.people.identity import Acting
from agent.people.keys import KeySecret, write_key_file
from agent.people.models import ADMIN_ROLE
from agent.people.names import person_key
from agent.people.overlays import sign_overlay
from agent.people.register import PeopleRegister
from agent.people.statements import PersonalSigner

ADMIN = "site-admin"


class Staff:
    """People of one test site. ``staff("carol", "engineer")`` is carol acting as an
    engineer: enrolled on first use (by the site's first administrator) with every role
    in ``roles``, her key sealed under her own key file in ``key_dir``."""

    def __init__(self, register: PeopleRegister, key_dir: Path, roles: Iterable[str],
                 admin: PersonalSigner | None = None) -> None:
        self.register = register
        self.key_dir = key_dir
        self.roles = sorted(set(roles))
        self._signers: dict[str, PersonalSigner] = {}
        if admin is None and register.find(ADMIN) is not None:  # a Staff of this site before
            admin = register.unlock(register.get(ADMIN), KeySecret(key_file=self.key_file(ADMIN)))
        self.admin = admin or self._enroll(ADMIN, [ADMIN_ROLE, *self.roles], by=None)

    def key_file(self, name: str) -> Path:
        """Where ``name``'s key file is."""
        return self.key_dir / f"{person_key(name)}.key"

    def _enroll(self, name: str, roles: list[str], by: PersonalSigner | None
                ) -> PersonalSigner:
        path = self.key_file(name)
        write_key_file(path)
        person = self.register.enroll(by=by, name=name, os_account=f"{person_key(name)}-os",
                                      roles=roles, secret=KeySecret(key_file=path))
        signer = self.register.unlock(person, KeySecret(key_file=path))
        self._signers[person.key] = signer
        return signer

    def signer(self, name: str) -> PersonalSigner:
        """``name``'s signer, enrolling them first when new."""
        key = person_key(name)
        if key not in self._signers and self.register.find(name) is None:
            self._enroll(name, self.roles, self.admin)
        fresh = self.register.get(key)
        signer = self.register.unlock(fresh, KeySecret(key_file=self.key_file(name)))
        self._signers[key] = signer
        return signer

    def __call__(self, name: str, role: str) -> Acting:
        return Acting(self.signer(name), role)


def sign_site_policies(home: Path, signer: PersonalSigner) -> None:
    """Sign every policy file of the site at ``home`` as ``signer`` (an administrator)."""
    for path in sorted((home / "policies").glob("*.toml")):
        sign_overlay(signer, path, now=datetime.now(UTC))
