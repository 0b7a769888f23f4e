"""Fixtures of the site service's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.os_accounts import shared_tmp_dir


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A short directory outside root's private tmp, reachable by the test OS accounts."""
    with shared_tmp_dir("pa-serve-") as path:
        yield path
