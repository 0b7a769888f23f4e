"""Creating and unlocking sites: passphrase, demo key file, refusals."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from agent.errors import VaultError
from agent.vault import init_site, open_site
from agent.vault.keys import unlock
from agent.vault.manifest import load_manifest

from .vault_helpers import FAST_KDF, PASSPHRASE, file_hashes


def test_passphrase_site_layout_and_no_secret_in_clear(home: Path) -> None:
    manifest = json.loads((home / "site.json").read_text())
    assert manifest["format"] == "plantagent-site"
    assert manifest["version"] == 1
    assert manifest["wrapping"]["kind"] == "passphrase"
    assert manifest["wrapping"]["kdf"]["n"] == FAST_KDF.n
    assert manifest["demo"] is False
    assert stat.S_IMODE((home / "site.json").stat().st_mode) == 0o600
    unlocked = unlock(home, PASSPHRASE)
    raw = (home / "site.json").read_bytes()
    # The DEK and the signing seeds appear nowhere in the manifest, raw or base64.
    import base64

    for secret in (unlocked.dek, unlocked.kek):
        assert secret not in raw
        assert base64.b64encode(secret) not in raw
        assert secret.hex().encode() not in raw


def test_default_kdf_is_strong(tmp_path: Path) -> None:
    from agent.vault import KdfParams

    assert KdfParams().n >= 2**15


def test_env_passphrase_unlocks(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANTAGENT_PASSPHRASE", PASSPHRASE)
    with open_site(home) as site:
        assert len(site.site_id) == 32


def test_locked_site_without_passphrase_names_the_fix(home: Path) -> None:
    with pytest.raises(VaultError, match="locked") as info:
        open_site(home)
    assert "PLANTAGENT_PASSPHRASE" in str(info.value)


def test_wrong_passphrase_refused_and_nothing_changes(home: Path) -> None:
    before = file_hashes(home)
    with pytest.raises(VaultError) as info:
        open_site(home, passphrase="not the passphrase")
    assert info.value.message == "wrong passphrase"
    assert file_hashes(home) == before


def test_demo_keyfile_site(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    info = init_site(home, demo_keyfile=True)
    assert info.demo
    keyfile = home / "demo.key"
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    assert load_manifest(home).wrapping.kind == "keyfile"
    with open_site(home) as site:  # no passphrase needed
        assert site.demo
        site.database("twin").execute("CREATE TABLE t(x)")


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_keyfile_with_loose_permissions_refused(tmp_path: Path, mode: int) -> None:
    home = tmp_path / "demo"
    init_site(home, demo_keyfile=True)
    os.chmod(home / "demo.key", mode)
    with pytest.raises(VaultError, match="group/others") as info:
        open_site(home)
    assert f"chmod 600 {home / 'demo.key'}" in str(info.value)


def test_wrong_keyfile_is_wrong_passphrase(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    init_site(home, demo_keyfile=True)
    (home / "demo.key").write_bytes(os.urandom(32))
    with pytest.raises(VaultError, match="wrong passphrase"):
        open_site(home)


def test_init_refuses_existing_site(home: Path) -> None:
    before = file_hashes(home)
    with pytest.raises(VaultError, match="never overwrites"):
        init_site(home, passphrase="another passphrase", kdf=FAST_KDF)
    with pytest.raises(VaultError, match="never overwrites"):
        init_site(home, demo_keyfile=True)
    assert file_hashes(home) == before


def test_not_a_site_names_init(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for where in (empty, tmp_path / "missing"):
        with pytest.raises(VaultError) as info:
            open_site(where, passphrase=PASSPHRASE)
        assert "plantagent init" in str(info.value)
        assert str(where) in str(info.value)
    assert list(empty.iterdir()) == []  # a failed open creates nothing


def test_short_passphrase_refused(tmp_path: Path) -> None:
    with pytest.raises(VaultError, match="too short"):
        init_site(tmp_path / "s", passphrase="short", kdf=FAST_KDF)
    assert not (tmp_path / "s" / "site.json").exists()


def test_needs_exactly_one_wrapping(tmp_path: Path) -> None:
    with pytest.raises(VaultError):
        init_site(tmp_path / "s")
    with pytest.raises(VaultError):
        init_site(tmp_path / "s", passphrase=PASSPHRASE, demo_keyfile=True)


def test_failed_open_releases_the_lock(home: Path) -> None:
    from agent.vault import rekey

    with pytest.raises(VaultError):
        open_site(home, passphrase="wrong wrong wrong")
    rekey(home, passphrase=PASSPHRASE)  # would say "in use" if the lock were held
