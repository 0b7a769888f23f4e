"""Who is acting: the enrolled person of the OS account running the command, in one of
their own roles, with their personal key unlocked.

A name or role given on the command line only selects: ``--as`` must name the person the
OS account belongs to, ``--role`` one of that person's roles. Nobody acts as somebody
else by typing their name.
"""

from __future__ import annotations

import os
import pwd
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from agent.errors import PolicyDenied, UsageError
from agent.people.keys import PERSON_KEYFILE_ENV, PERSON_PASSPHRASE_ENV, KeySecret
from agent.people.models import ADMIN_ROLE, Person, SealedKey
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


#: The OS account the work in hand is done for, when it is not this process's own user:
#: the site service sets it to its caller's (the kernel's word, SO_PEERCRED) for all a
#: connection does, so a request asked for through the service records the caller's
#: account, not the service's (the two-person rule compares accounts).
CALLER_ACCOUNT: ContextVar[str | None] = ContextVar("plantagent_caller_account", default=None)


def os_account() -> str:
    """The login name of the person the work is done for: the site service's caller
    (:data:`CALLER_ACCOUNT`), else the process's real user."""
    return CALLER_ACCOUNT.get() or pwd.getpwuid(os.getuid()).pw_name


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


def secret_from(key_file: str | Path | None, person: Person | None = None, *,
                sealed: SealedKey | None = None) -> KeySecret:
    """The personal secret: ``key_file``, else PLANTAGENT_PERSON_KEYFILE, else
    PLANTAGENT_PERSON_PASSPHRASE, else the key file recorded at enrolment (in the
    person's ``sealed`` key), else the terminal."""
    chosen = key_file or os.environ.get(PERSON_KEYFILE_ENV)
    if chosen:
        return KeySecret(key_file=Path(chosen))
    passphrase = os.environ.get(PERSON_PASSPHRASE_ENV)
    if passphrase:
        return KeySecret(passphrase=passphrase)
    sealed = person.sealed if person is not None else sealed
    if sealed is not None and sealed.key_file:
        return KeySecret(key_file=Path(sealed.key_file))
    from agent.vault.passphrase import read_passphrase

    return KeySecret(passphrase=read_passphrase(prompt="Your personal passphrase: ",
                                                env=PERSON_PASSPHRASE_ENV))


@dataclass(frozen=True)
class Asker:
    """Who asks a question: the enrolled person's name and role (``enrolled`` False only
    on a site where nobody is enrolled, or whose policy lets unenrolled accounts ask)."""

    name: str
    role: str
    enrolled: bool


def identify_asker(register: PeopleRegister, *, name: str | None = None,
                   role: str | None = None, settings_name: str, settings_role: str,
                   match_os_account: bool = True, unenrolled_may_ask: bool = False,
                   account: str | None = None) -> Asker:
    """The asker of a question, taken from the register, never from a typed name.

    - nobody enrolled (a single-user site): the settings' name and role, as before;
    - by default, the person of the OS account; ``name`` (``--as``) must be that person
      and ``role`` one of their roles (else the settings' role if theirs, else their only);
    - a site policy with ``match_os_account = false`` (shared accounts): the enrolled
      person named by ``name``, else by the settings' name, proven by unlocking their own
      key (:func:`acting`), else the person of the OS account;
    - an OS account nobody has: refused, unless the policy's ``unenrolled_may_ask`` (a
      single-user demo site) lets it ask under the settings' name.
    """
    if register.empty():
        return Asker(name or settings_name, role or settings_role, enrolled=False)
    if not match_os_account:
        wanted = name or settings_name
        named = register.find(wanted)
        if named is not None and named.os_account != (account or os_account()):
            who = acting(register, name=named.name, role=role, account=account,
                         preferred_role=settings_role, match_os_account=False)
            return Asker(who.name, who.role, enrolled=True)
        if named is None and name is not None:
            raise PolicyDenied(f"nobody named {name!r} is enrolled",
                               fix="ask under your own enrolled name")
    account = account or os_account()
    person = register.by_account(account)
    if person is None or person.disabled:
        if unenrolled_may_ask:
            return Asker(settings_name, role or settings_role, enrolled=False)
        why = "is not enrolled" if person is None else f"is {person.name}'s, who is disabled"
        raise PolicyDenied(
            f"the OS account {account!r} {why}: on this site only enrolled people ask",
            fix=f"an administrator enrols you: plantagent people add NAME --account {account} "
            "--role ROLE (a single-user demo site may allow it: [people] "
            "unenrolled_may_ask = true in a signed site policy)")
    if name is not None and person_key(name) != person.key:
        raise PolicyDenied(
            f"you are logged in as {account!r}, enrolled as {person.name}; you can not ask "
            f"as {name!r}", fix="ask under your own name (leave out --as)")
    return Asker(person.name, choose_role(person, role, settings_role), enrolled=True)


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
