"""The register of enrolled people, in the site's encrypted ``people`` database.

Only an enrolled administrator changes it, with a statement signed by their own key;
the first administrator is enrolled by whoever holds the site passphrase (or, on a demo
site, its key file), once, while the register is empty (``plantagent people add
--first-admin``). Every change is written to the audit log first (fail closed) with the
digest of the person's new record and the signed statement; reading a person back checks
the stored record against the newest digest in the audit log, so a row edited or copied
in behind the register's back is refused, however it got there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import apsw

from agent.audit.log import AuditLog
from agent.audit.records import canonical_json
from agent.errors import IntegrityError, PolicyDenied, UsageError, VaultError
from agent.people.keys import KeySecret, public_key_of, seal_keys, unseal_keys
from agent.people.models import ADMIN_ROLE, Person
from agent.people.names import person_key
from agent.people.statements import PersonalSigner, SignedStatement, check_signature
from agent.vault import crypto
from agent.vault.migrations import apply_migrations
from agent.vault.signing import SigningKeys
from agent.vault.wrapping import KdfParams

MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("001_create_people", """
        CREATE TABLE people (
            key TEXT PRIMARY KEY,
            os_account TEXT NOT NULL UNIQUE,
            record TEXT NOT NULL
        );
    """),
)
#: The audit events of register changes (kind ``config_change``).
PEOPLE_EVENT = "people"
SITE_OWNER = "site-owner"


def record_digest(person: Person) -> str:
    """SHA-256 of the person's stored record (canonical JSON): what the audit log holds."""
    return crypto.sha256_hex(canonical_json(person.model_dump(mode="json")))


class PeopleRegister:
    """Enrolled people of one site. ``audit`` records every change; ``kdf`` is the cost
    of new personal passphrases; ``roles`` the policy's roles (enrolment refuses others)."""

    def __init__(self, conn: apsw.Connection, audit: AuditLog, *, roles: set[str],
                 clock: Callable[[], datetime], kdf: KdfParams | None = None) -> None:
        self._conn = conn
        self._audit = audit
        self._roles = set(roles)
        self._clock = clock
        self._kdf = kdf or KdfParams()
        self._lock = threading.Lock()
        with self._lock:
            apply_migrations(conn, "people", MIGRATIONS)

    # -- reading -----------------------------------------------------------------------

    def people(self) -> list[Person]:
        """Every enrolled person, by key, each checked against the audit log."""
        with self._lock:
            rows = list(self._conn.execute("SELECT record FROM people ORDER BY key"))
        return [self._checked(Person.model_validate_json(r[0])) for r in rows]

    def find(self, name: str) -> Person | None:
        """The person enrolled under ``name`` (any case or look-alike spelling), or None."""
        key = person_key(name)
        with self._lock:
            rows = list(self._conn.execute("SELECT record FROM people WHERE key = ?", (key,)))
        return self._checked(Person.model_validate_json(rows[0][0])) if rows else None

    def get(self, name: str) -> Person:
        """The person enrolled under ``name``; UsageError naming the fix when none is."""
        person = self.find(name)
        if person is None:
            raise UsageError(f"nobody is enrolled as {name!r}",
                             fix="`plantagent people list` shows who is enrolled")
        return person

    def by_account(self, os_account: str) -> Person | None:
        """The person enrolled for the OS account, or None."""
        with self._lock:
            rows = list(self._conn.execute(
                "SELECT record FROM people WHERE os_account = ?", (os_account,)))
        return self._checked(Person.model_validate_json(rows[0][0])) if rows else None

    def empty(self) -> bool:
        """True while nobody is enrolled."""
        with self._lock:
            return not list(self._conn.execute("SELECT 1 FROM people LIMIT 1"))

    def unlock(self, person: Person, secret: KeySecret) -> PersonalSigner:
        """The person's signer (VaultError for a wrong passphrase or key file)."""
        keys = unseal_keys(person.sealed, person.key, person.current_key, secret)
        return PersonalSigner(person, keys)

    def _checked(self, person: Person) -> Person:
        """``person`` if the audit log's newest record of it has its digest."""
        records = [r for r in self._audit.search(kind="config_change", text=person.key)
                   if r.payload.get("event") == PEOPLE_EVENT
                   and r.payload.get("person") == person.key]
        if not records or records[-1].payload.get("digest") != record_digest(person):
            raise IntegrityError(
                f"the register entry of {person.name} does not match the audit log (it was "
                "edited or copied in outside plantagent)",
                fix="restore the people database from a backup, or have an administrator "
                "enrol the person again")
        return person

    # -- changing ----------------------------------------------------------------------

    def enroll(self, *, by: PersonalSigner | None, name: str, os_account: str,
               roles: list[str], secret: KeySecret) -> Person:
        """Enrol a person with a new key pair sealed under ``secret``. ``by`` is the
        administrator enrolling them; None only for the first administrator (the caller
        proved the site passphrase by opening the site)."""
        key = person_key(name)
        roles = sorted(set(roles))
        unknown = [r for r in roles if r != ADMIN_ROLE and r not in self._roles]
        if unknown or not roles:
            raise UsageError(f"unknown role(s): {', '.join(unknown) or '(none given)'}",
                             fix=f"use roles of the policy: {', '.join(sorted(self._roles))}"
                             f" (and {ADMIN_ROLE})")
        if by is None:
            if not self.empty():
                raise PolicyDenied(
                    "the first administrator is already enrolled",
                    fix="an enrolled administrator adds people: plantagent people add")
            if ADMIN_ROLE not in roles:
                raise UsageError("the first person enrolled must be an administrator",
                                 fix=f"add --role {ADMIN_ROLE}")
        else:
            self._require_admin(by)
        existing = self._raw(key)
        if existing is not None:
            raise UsageError(
                f"{name!r} is the same person as the enrolled {existing.name!r} (names are "
                "compared ignoring case, accents, separators and look-alike letters)",
                fix="choose a clearly different name, or re-key the person: "
                "plantagent people rotate-key")
        if self.by_account(os_account) is not None:
            raise UsageError(f"the OS account {os_account!r} already belongs to someone",
                             fix="each person enrols with their own OS account")
        now = self._clock()
        keys = SigningKeys.generate()
        public = public_key_of(keys, now)
        actor = by.person.key if by else SITE_OWNER
        person = Person(key=key, name=name.strip(), os_account=os_account, roles=roles,
                        keys=[public], sealed=seal_keys(keys, key, public.fingerprint, secret,
                                                        self._kdf),
                        enrolled_by=actor, enrolled_at=now, changed_by=actor, changed_at=now)
        self._commit(person, "enrol", by, insert=True)
        return person

    def disable(self, *, by: PersonalSigner, name: str) -> Person:
        """Disable a person: none of their approvals counts from now on."""
        self._require_admin(by)
        person = self.get(name)
        if person.key == by.person.key:
            raise PolicyDenied("an administrator may not disable themselves",
                               fix="another administrator disables you")
        changed = person.model_copy(update={
            "disabled": True, "changed_by": by.person.key, "changed_at": self._clock(),
            "revision": person.revision + 1})
        self._commit(changed, "disable", by)
        return changed

    def rotate_key(self, *, by: PersonalSigner | None, name: str,
                   secret: KeySecret) -> Person:
        """A new key pair for a person under a new secret; the old key is retired (it
        still verifies what it signed before). ``by`` is the person themselves or an
        administrator; None only with the site passphrase for the sole administrator."""
        person = self.get(name)
        if by is None:
            if not person.admin or len([p for p in self.people() if p.admin]) != 1:
                raise PolicyDenied("only the sole administrator's key can be replaced with "
                                   "the site passphrase alone",
                                   fix="an administrator re-keys people with their own key")
        elif by.person.key != person.key:
            self._require_admin(by)
        now = self._clock()
        keys = SigningKeys.generate()
        public = public_key_of(keys, now)
        old = [k if k.retired_at else k.model_copy(update={"retired_at": now})
               for k in person.keys]
        changed = person.model_copy(update={
            "keys": [*old, public],
            "sealed": seal_keys(keys, person.key, public.fingerprint, secret, self._kdf),
            "changed_by": by.person.key if by else SITE_OWNER, "changed_at": now,
            "revision": person.revision + 1})
        self._commit(changed, "rotate-key", by)
        return changed

    def _require_admin(self, by: PersonalSigner) -> None:
        current = self.get(by.person.key)
        if not current.admin or current.disabled:
            raise PolicyDenied(f"{current.name} is not an enabled administrator",
                               fix="ask an administrator (plantagent people list)")

    def _raw(self, key: str) -> Person | None:
        with self._lock:
            rows = list(self._conn.execute("SELECT record FROM people WHERE key = ?", (key,)))
        return Person.model_validate_json(rows[0][0]) if rows else None

    def _commit(self, person: Person, change: str, by: PersonalSigner | None, *,
                insert: bool = False) -> None:
        digest = record_digest(person)
        statement: dict[str, Any] = {
            "type": "plantagent/people-change/v1", "change": change, "subject": person.key,
            "digest": digest, "revision": person.revision}
        signed: SignedStatement | None = None
        if by is not None:
            signed = by.sign(statement, now=self._clock())
        payload: dict[str, Any] = {
            "event": PEOPLE_EVENT, "change": change, "person": person.key,
            "digest": digest, "record": person.public_view(),
            "signed": signed.model_dump(mode="json") if signed else None,
        }
        actor = by.person.key if by else SITE_OWNER
        # Fail closed: the audit record first; no record, no change.
        self._audit.append("config_change", actor, payload, role=ADMIN_ROLE if by else None,
                           tool="people")
        text = person.model_dump_json()
        try:
            with self._lock:
                if insert:
                    self._conn.execute(
                        "INSERT INTO people(key, os_account, record) VALUES (?, ?, ?)",
                        (person.key, person.os_account, text))
                else:
                    self._conn.execute("UPDATE people SET record = ? WHERE key = ?",
                                       (text, person.key))
        except apsw.Error as exc:
            raise VaultError(f"the people database failed: {exc}",
                             fix="check the site directory is writable and not full") from exc


def check_change(register: PeopleRegister, payload: dict[str, Any]) -> None:
    """IntegrityError unless a register change recorded in the audit log was signed by an
    administrator (or is the site owner's first enrolment)."""
    signed = payload.get("signed")
    if signed is None:
        if payload.get("change") not in ("enrol", "rotate-key"):
            raise IntegrityError(f"register change {payload.get('change')} is unsigned")
        return
    statement = SignedStatement.model_validate(signed)
    check_signature(register.get(statement.person), statement)
