"""Fixtures of the site service's tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A short directory outside root's private tmp, reachable by the test OS accounts."""
    path = Path(tempfile.mkdtemp(prefix="pa-serve-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)
