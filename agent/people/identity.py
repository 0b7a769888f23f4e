"""Who is acting: the enrolled person of the OS account running the command, in one of
their own roles, with their personal key unlocked.

A name or role given on the command line only selects: ``--as`` must name the person the
OS account belongs to, ``--role`` one of that person's roles. Nobody acts as somebody
else by typing their name.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from pathlib import Path

from agent.errors import PolicyDenied, UsageError
from agent.people.keys import PERSON_KEYFILE_ENV, PERSON_PASSPHRASE_ENV, KeySecret
from agent.people.models import ADMIN_ROLE, Person
from agent.people.names import person_key
from agent.people.register import PeopleRegister
from agent.people.statements import PersonalSigner


@dataclass(frozen=True)
class Acting:
    """A person acting in one role, able to sign."""

    signer: PersonalSigner
    role: str

    @property
    def person(self) -> Person:
        """The enrolled person."""
        return self.signer.person

    @property
    def name(self) -> str:
        """The person's name as enrolled (the actor of audit records)."""
        return self.signer.person.name

    @property
    def key(self) -> str:
        """The person's normalised key (what signed statements name)."""
        return self.signer.person.key


def os_account() -> str:
    """The login name of the process's real user."""
    return pwd.getpwuid(os.getuid()).pw_name


def person_of_account(register: PeopleRegister, account: str | None = None) -> Person:
    """The enrolled, enabled person of the OS account (PolicyDenied naming the fix)."""
    account = account or os_account()
    person = register.by_account(account)
    if person is None:
        raise PolicyDenied(
            f"the OS account {account!r} is not enrolled",
            fix="an administrator enrols you: plantagent people add NAME --account "
            f"{account} --role ROLE")
    if person.disabled:
        raise PolicyDenied(f"{person.name} is disabled", fix="ask an administrator")
    return person


def choose_role(person: Person, role: str | None, preferred: str | None = None) -> str:
    """``role`` if it is one of the person's roles; when none is given, ``preferred`` (the
    settings' agent.role) if the person holds it, else their only role."""
    own = [r for r in person.roles if r != ADMIN_ROLE] or list(person.roles)
    if role is None and preferred in own:
        return str(preferred)
    if role is None:
        if len(own) == 1:
            return own[0]
        raise UsageError(f"{person.name} has several roles: {', '.join(own)}",
                         fix="choose one with --role")
    if role not in person.roles:
        raise PolicyDenied(f"{person.name} does not have the role {role!r} (roles: "
                           f"{', '.join(person.roles)})",
                           fix="roles come from the register: ask an administrator")
    return role


def secret_from(key_file: str | Path | None, person: Person | None = None) -> KeySecret:
    """The personal secret: ``key_file``, else PLANTAGENT_PERSON_KEYFILE, else
    PLANTAGENT_PERSON_PASSPHRASE, else the key file recorded at enrolment, else the
    terminal."""
    chosen = key_file or os.environ.get(PERSON_KEYFILE_ENV)
    if chosen:
        return KeySecret(key_file=Path(chosen))
    passphrase = os.environ.get(PERSON_PASSPHRASE_ENV)
    if passphrase:
        return KeySecret(passphrase=passphrase)
    if person is not None and person.sealed.key_file:
        return KeySecret(key_file=Path(person.sealed.key_file))
    from agent.vault.passphrase import read_passphrase

    return KeySecret(passphrase=read_passphrase(prompt="Your personal passphrase: ",
                                                env=PERSON_PASSPHRASE_ENV))


def acting(register: PeopleRegister, *, name: str | None = None, role: str | None = None,
           key_file: str | Path | None = None, account: str | None = None,
           preferred_role: str | None = None, match_os_account: bool = True) -> Acting:
    """The person the OS account belongs to, in ``role``, key unlocked. ``name`` (from
    ``--as``) must be that person; ``account`` replaces the OS account. When the policy
    turns ``match_os_account`` off, ``name`` picks the person (their own key still
    needed)."""
    if not match_os_account and name is not None:
        person = register.get(name)
        if person.disabled:
            raise PolicyDenied(f"{person.name} is disabled", fix="ask an administrator")
    else:
        person = person_of_account(register, account)
    if name is not None and person_key(name) != person.key:
        raise PolicyDenied(
            f"you are logged in as {account or os_account()!r}, enrolled as {person.name}; "
            f"you can not act as {name!r}",
            fix=f"{name} acts from their own OS account")
    chosen = choose_role(person, role, preferred_role)
    signer = register.unlock(person, secret_from(key_file, person))
    return Acting(signer, chosen)
