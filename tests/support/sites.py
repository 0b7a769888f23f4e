"""Sites for tests: real encrypted sites with a cheap key derivation (scrypt n=2**10), so a
test spends milliseconds, not a second, unlocking one; and their settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.settings import Settings, load_settings
from agent.vault import KdfParams, init_site

#: scrypt parameters of test sites: real scrypt, cheap enough for hundreds of tests.
FAST_KDF = KdfParams(n=2**10, r=8, p=1)
#: The passphrase of every passphrase-mode test site.
PASSPHRASE = "correct horse battery staple"


def new_site(home: Path, *, passphrase: str | None = None) -> Path:
    """A fresh site at ``home``: passphrase mode when one is given, else demo key file."""
    if passphrase is None:
        init_site(home, demo_keyfile=True, kdf=FAST_KDF)
    else:
        init_site(home, passphrase=passphrase, kdf=FAST_KDF)
    return home


def site_settings(home: Path, endpoint: str | None = None, *, timeout_s: float = 3.0,
                  user: str | None = None, role: str = "shift_lead",
                  **overrides: Any) -> Settings:
    """Settings of the test site at ``home``: the plant at ``endpoint`` (requests time out
    after ``timeout_s``), questions asked and approvals decided as ``user`` in ``role``;
    ``overrides`` as load_settings takes them (an ``opcua`` section adds to the one
    above, any other replaces it)."""
    values: dict[str, Any] = {"home": home}
    if endpoint is not None:
        values["opcua"] = {"endpoint": endpoint, "timeout_s": timeout_s,
                           **overrides.pop("opcua", {})}
    if user is not None:
        values["agent"] = {"user": user, "role": role}
    values.update(overrides)
    return load_settings(**values)
