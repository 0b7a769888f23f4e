"""Fixtures of the triage tests: real demo plants on free loopback ports (with faults
scheduled into their pre-filled history), a real encrypted site with a cheap KDF."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.vault import KdfParams, init_site


@pytest.fixture(autouse=True)
def _no_site_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The developer's own PLANTAGENT_* variables must not leak into these tests.
    for name in list(os.environ):
        if name.upper().startswith("PLANTAGENT_"):
            monkeypatch.delenv(name)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A fresh demo-key site directory (cheap KDF)."""
    site_home = tmp_path / "site"
    init_site(site_home, demo_keyfile=True, kdf=KdfParams(n=2**10, r=8, p=1))
    yield site_home
