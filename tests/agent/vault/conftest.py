"""Fixtures of the vault tests: real sites in temporary directories, cheap scrypt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.vault import Site, init_site, open_site

from .vault_helpers import FAST_KDF, PASSPHRASE


@pytest.fixture(autouse=True)
def _no_env_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    # A passphrase in the developer's environment must not leak into these tests.
    monkeypatch.delenv("PLANTAGENT_PASSPHRASE", raising=False)
    monkeypatch.delenv("PLANTAGENT_NEW_PASSPHRASE", raising=False)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh passphrase site."""
    site_home = tmp_path / "site"
    init_site(site_home, passphrase=PASSPHRASE, kdf=FAST_KDF)
    return site_home


@pytest.fixture
def site(home: Path) -> Iterator[Site]:
    """The fresh site, open."""
    with open_site(home, passphrase=PASSPHRASE) as opened:
        yield opened
