"""Fixtures of the triage tests: real demo plants on free loopback ports (with faults
scheduled into their pre-filled history), a real encrypted site with a cheap KDF."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.vault import KdfParams, init_site


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A fresh demo-key site directory (cheap KDF)."""
    site_home = tmp_path / "site"
    init_site(site_home, demo_keyfile=True, kdf=KdfParams(n=2**10, r=8, p=1))
    yield site_home
