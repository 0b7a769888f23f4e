"""The service's passphrase comes from a credential file, never from a person's shell."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.errors import VaultError
from agent.serve.daemon import credential_passphrase
from agent.vault.passphrase import PASSPHRASE_ENV
from tests.support.sites import PASSPHRASE


def test_a_passphrase_file_of_the_service_alone(home: Path, tmp_path: Path) -> None:
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE + "\n")
    secret.chmod(0o644)
    with pytest.raises(VaultError, match="readable by others") as loose:
        credential_passphrase(secret)(home)
    assert loose.value.fix == f"chmod 600 {secret}"
    secret.chmod(0o600)
    assert credential_passphrase(secret)(home) == PASSPHRASE


def test_the_systemd_credential_and_never_the_environment(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    with pytest.raises(VaultError, match="needs the site passphrase from a credential "
                       "file") as refused:
        credential_passphrase(None)(home)
    assert refused.value.fix and "LoadCredential=plantagent-passphrase" in refused.value.fix
    assert PASSPHRASE_ENV not in os.environ  # taken away, not used
    (tmp_path / "plantagent-passphrase").write_text(PASSPHRASE)
    (tmp_path / "plantagent-passphrase").chmod(0o400)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert credential_passphrase(None)(home) == PASSPHRASE


def test_a_demo_key_file_site_needs_none(site_home: Path) -> None:
    assert credential_passphrase(None)(site_home) is None
