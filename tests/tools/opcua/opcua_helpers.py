"""Settings shared by the OPC UA tests (imported by name: conftest modules clash)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.settings import Settings
from tests.support.sites import site_settings

#: Short enough that failure tests finish quickly, long enough for a loaded 2-core box.
TEST_TIMEOUT_S = 2.0


def make_settings(home: Path, endpoint: str, **opcua: Any) -> Settings:
    """Settings for a test: the site in ``home``, the given endpoint and OPC UA options."""
    return site_settings(home, endpoint, timeout_s=TEST_TIMEOUT_S, opcua=opcua)
