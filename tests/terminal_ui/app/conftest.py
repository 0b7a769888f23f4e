"""Fixtures of the terminal UI tests: the real demo plant (``live_plant``, shared), a real
encrypted passphrase site per module, and the agent service over them (a scripted model
unless a test asks for the real one)."""

from __future__ import annotations

import pytest

from agent.settings import Settings
from tests.support.sites import PASSPHRASE, new_site

from .tui_helpers import site_settings


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of a fresh passphrase site of the module (user and role of a shift lead)."""
    return site_settings(new_site(tmp_path_factory.mktemp("tui-site"), passphrase=PASSPHRASE))
