"""Getting a passphrase from a person, a service credential or the environment.

A passphrase in an environment variable is taken once and removed: from ``os.environ``
(so no child process can inherit it) and, on Linux, overwritten in the process's
initial environment block, which ``/proc/<pid>/environ`` shows for the life of the
process (:func:`scrub_initial_environment`; where that is not possible the value stays
readable there by the same user and root). A service should not use the variable at
all: its systemd unit hands the passphrase over with ``LoadCredential=`` (a file in
``$CREDENTIALS_DIRECTORY`` only the service can read), which this module reads first.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from agent.errors import VaultError
from agent.vault.strength import check_strength

PASSPHRASE_ENV = "PLANTAGENT_PASSPHRASE"
NEW_PASSPHRASE_ENV = "PLANTAGENT_NEW_PASSPHRASE"
#: The systemd credential name (``LoadCredential=plantagent-passphrase:/etc/...``).
CREDENTIAL_NAMES = {PASSPHRASE_ENV: "plantagent-passphrase",
                    NEW_PASSPHRASE_ENV: "plantagent-new-passphrase"}

#: Passphrases taken from the environment, by variable: asked for again by the same
#: command (a rotation opens the site three times), never put back in the environment.
_taken: dict[str, str] = {}


def from_environment(env: str = PASSPHRASE_ENV) -> str | None:
    """The passphrase a service was given: its systemd credential, else the variable
    ``env`` (removed from the environment the first time it is read)."""
    credential = _credential(CREDENTIAL_NAMES.get(env, env.lower()))
    if credential is not None:
        return credential or None
    if env in os.environ:  # newly set (or set again): it wins over what was taken before
        value = os.environ.pop(env)
        scrub_initial_environment(env)
        if not value:
            return None
        _taken[env] = value
    return _taken.get(env)


def forget() -> None:
    """Drop the passphrases taken from the environment (a test between cases; a
    long-lived process that no longer needs them)."""
    _taken.clear()


def _credential(name: str) -> str | None:
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        return None
    try:
        text = (Path(directory) / name).read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise VaultError(f"cannot read the credential {name} in {directory}: {exc.strerror}",
                         fix="check LoadCredential= in the service unit") from None
    return text.rstrip("\r\n")


def scrub_initial_environment(name: str) -> bool:
    """Overwrite ``NAME=value`` in the process's initial environment block (what
    /proc/self/environ shows) with zero bytes; True when something was overwritten.

    Linux only, through /proc/self/mem (a process may write its own memory); False where
    that is not possible.
    """
    try:
        stat = Path("/proc/self/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        start, end = int(fields[47]), int(fields[48])  # env_start, env_end (fields 50, 51)
        fd = os.open("/proc/self/mem", os.O_RDWR)
    except (OSError, ValueError, IndexError):
        return False
    try:
        block = os.pread(fd, end - start, start)
        key = name.encode() + b"="
        done = False
        offset = 0
        while (at := block.find(key, offset)) >= 0:
            if at == 0 or block[at - 1] == 0:  # the start of an entry, not inside one
                value_end = block.find(b"\0", at)
                value_end = len(block) if value_end < 0 else value_end
                first = at + len(key)
                os.pwrite(fd, b"\0" * (value_end - first), start + first)
                done = True
            offset = at + len(key)
        return done
    except OSError:
        return False
    finally:
        os.close(fd)


def read_passphrase(
    *, prompt: str = "Site passphrase: ", confirm: bool = False, env: str = PASSPHRASE_ENV
) -> str:
    """The passphrase from the service credential or ``env`` if set, else from the
    terminal (twice with ``confirm``, and then checked for strength).

    Never echoes it and never logs it. Without a terminal and without the variable, the
    error names both ways to provide one.
    """
    value = from_environment(env)
    if value:
        return value
    if not sys.stdin.isatty():
        raise VaultError(
            "a passphrase is needed but there is no terminal to ask in",
            fix=f"give a service the passphrase with LoadCredential={CREDENTIAL_NAMES.get(env)}"
            f" (or set {env}), or run the command in a terminal",
        )
    first = getpass.getpass(prompt)
    if confirm:
        check_strength(first)
        if getpass.getpass("Repeat it: ") != first:
            raise VaultError("the two passphrases differ", fix="run the command again")
    return first
