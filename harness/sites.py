"""Throw-away sites of the harness's runs: real encrypted sites in temporary directories,
with a cheap key derivation (each run makes several; none holds anything worth a slow
KDF). They are opened like any site, through agent.runtime.SiteRuntime."""

from __future__ import annotations

from pathlib import Path

from agent.vault import KdfParams, init_site

#: scrypt cost of a throw-away site: real scrypt, milliseconds to unlock.
THROWAWAY_KDF = KdfParams(n=2**10, r=8, p=1)


def throwaway_site(home: Path, *, passphrase: str | None = None) -> Path:
    """A fresh site at ``home``: passphrase mode when one is given, else demo key file."""
    if passphrase is None:
        init_site(home, demo_keyfile=True, kdf=THROWAWAY_KDF)
    else:
        init_site(home, passphrase=passphrase, kdf=THROWAWAY_KDF)
    return home
