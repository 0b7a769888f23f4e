"""Is a new site passphrase strong enough? Each weakness is named, not just "weak".

The rules, at init, rewrap and restore: at least 12 characters that are not white
space; not only digits; not one or a few characters repeated; not a common password, a
keyboard run or the product's own name, alone or with digits and symbols around it.
A passphrase of several unrelated words passes all of them. (The list of common
passwords is short on purpose: the rules catch what a person types in a hurry, the
scrypt cost makes guessing the rest slow.)
"""

from __future__ import annotations

import re

from agent.errors import VaultError

MIN_LENGTH = 12
#: The most common passwords and keyboard runs of the public breach lists, and words
#: this product would tempt one to use.
COMMON = frozenset((
    "password", "passwort", "passw0rd", "pass123", "welcome", "letmein", "admin",
    "administrator", "root", "toor", "qwerty", "qwertz", "azerty", "asdfgh", "asdfghjkl",
    "zxcvbn", "qazwsx", "iloveyou", "monkey", "dragon", "sunshine", "princess", "football",
    "baseball", "master", "shadow", "superman", "batman", "trustno1", "secret", "changeme",
    "default", "guest", "login", "abc", "abcdef", "abcdefgh", "123456", "1234567", "12345678",
    "123456789", "1234567890", "654321", "111111", "000000", "987654321", "plantagent",
    "passphrase", "operator", "engineer", "factory", "plant", "scada", "siemens", "demo",
    "test", "testing", "summer", "winter", "spring", "autumn",
))
_RUNS = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiopasdfghjklzxcvbnm",
         "qwertzuiopasdfghjklyxcvbnm", "azertyuiopqsdfghjklmwxcvbn")


def problems(passphrase: str) -> list[str]:
    """What is weak about ``passphrase`` (empty: nothing)."""
    found: list[str] = []
    stripped = "".join(passphrase.split())
    if not stripped:
        return [f"it is only white space ({len(passphrase)} characters of it)"]
    if len(stripped) < MIN_LENGTH:
        found.append(f"it is too short: {len(stripped)} characters that are not spaces, "
                     f"at least {MIN_LENGTH} are needed")
    if stripped.isdigit():
        found.append("it is only digits")
    unit = _repeated_unit(stripped)
    if unit is not None:
        found.append(f"it repeats {unit!r} over and over")
    elif len(set(stripped.lower())) <= 3 and len(stripped) > 3:
        found.append(f"it uses only {len(set(stripped.lower()))} different characters")
    word = _common(passphrase)
    if word is not None:
        found.append(f"it is a common password or keyboard run ({word!r}) with little around "
                     "it")
    return found


def check_strength(passphrase: str) -> None:
    """Raise VaultError naming every weakness of a new passphrase."""
    weak = problems(passphrase)
    if weak:
        raise VaultError(
            "the passphrase is weak: " + "; ".join(weak),
            fix="choose several unrelated words, e.g. four or more, at least "
            f"{MIN_LENGTH} characters in all",
        )


def _repeated_unit(text: str) -> str | None:
    """The short unit ``text`` is made of by repetition (e.g. 'ab' in 'abababab')."""
    for size in range(1, min(4, len(text) // 2) + 1):
        unit = text[:size]
        if unit * (len(text) // size) + unit[: len(text) % size] == text:
            return unit
    return None


def _common(passphrase: str) -> str | None:
    """A common word or keyboard run that is all there is, once digits, symbols and
    spaces are taken away (e.g. 'Password123!', '  qwerty  ')."""
    letters = re.sub(r"[^a-z]", "", passphrase.lower())
    core = letters or re.sub(r"\D", "", passphrase)
    if not core:
        return None
    if core in COMMON:
        return core
    for run in _RUNS:
        if len(core) >= 4 and core in run:
            return core
    # Several common words glued ("adminadmin", "welcomepassword").
    rest = core
    while rest:
        match = next((w for w in sorted(COMMON, key=len, reverse=True)
                      if len(w) >= 4 and rest.startswith(w)), None)
        if match is None:
            return None
        rest = rest[len(match):]
    return core
