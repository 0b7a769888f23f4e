"""Getting a passphrase from a person or a service environment (used by the CLI)."""

from __future__ import annotations

import getpass
import os
import sys

from agent.errors import VaultError
from agent.vault.wrapping import MIN_PASSPHRASE_LEN, PASSPHRASE_ENV

NEW_PASSPHRASE_ENV = "PLANTAGENT_NEW_PASSPHRASE"


def read_passphrase(
    *, prompt: str = "Site passphrase: ", confirm: bool = False, env: str = PASSPHRASE_ENV
) -> str:
    """The passphrase from ``env`` if set, else from the terminal (twice with ``confirm``).

    Never echoes it and never logs it. Without a terminal and without the variable, the
    error names both ways to provide one.
    """
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        raise VaultError(
            "a passphrase is needed but there is no terminal to ask in",
            fix=f"set {env} in the service environment, or run the command in a terminal",
        )
    first = getpass.getpass(prompt)
    if confirm:
        if len(first) < MIN_PASSPHRASE_LEN:
            raise VaultError(
                f"the passphrase is too short (under {MIN_PASSPHRASE_LEN} characters)",
                fix="choose a longer passphrase, ideally several words",
            )
        if getpass.getpass("Repeat it: ") != first:
            raise VaultError("the two passphrases differ", fix="run the command again")
    return first
