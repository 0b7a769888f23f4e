"""Sites for tests: real encrypted sites with a cheap key derivation (scrypt n=2**10), so a
test spends milliseconds, not a second, unlocking one."""

from __future__ import annotations

from pathlib import Path

from agent.vault import KdfParams, init_site

#: scrypt parameters of test sites: real scrypt, cheap enough for hundreds of tests.
FAST_KDF = KdfParams(n=2**10, r=8, p=1)


def new_site(home: Path, *, passphrase: str | None = None) -> Path:
    """A fresh site at ``home``: passphrase mode when one is given, else demo key file."""
    if passphrase is None:
        init_site(home, demo_keyfile=True, kdf=FAST_KDF)
    else:
        init_site(home, passphrase=passphrase, kdf=FAST_KDF)
    return home
