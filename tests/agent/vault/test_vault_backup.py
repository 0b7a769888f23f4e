"""Key backup to a hybrid X25519 + ML-KEM-768 recipient, and restore."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from agent.errors import VaultError
from agent.vault import open_site
from agent.vault.backup import backup_keys, recipient_keygen, restore_site

from .vault_helpers import FAST_KDF, PASSPHRASE

NEW = "restored site passphrase"


@pytest.fixture
def backed_up(home: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    with open_site(home, passphrase=PASSPHRASE) as site:
        site.database("twin").execute("CREATE TABLE t(x); INSERT INTO t VALUES ('plant data')")
        site.put_blob("kv/1", b"kv state")
    pub, key = recipient_keygen(tmp_path / "recipient")
    out = tmp_path / "backup.json"
    events: list[str] = []
    backup_keys(home, pub, out, passphrase=PASSPHRASE, on_event=lambda k, p: events.append(k))
    assert events == ["vault.backup"]
    return home, out, key


def test_round_trip(backed_up: tuple[Path, Path, Path], tmp_path: Path) -> None:
    home, backup, key = backed_up
    raw = backup.read_bytes()
    assert b"plant data" not in raw
    new_home = tmp_path / "restored"
    info = restore_site(backup, key, new_home, passphrase=NEW, kdf=FAST_KDF)
    # The encrypted data files are copied like any file; the restored keys open them.
    shutil.copytree(home / "data", new_home / "data", dirs_exist_ok=True)
    shutil.copytree(home / "blobs", new_home / "blobs", dirs_exist_ok=True)
    with open_site(home, passphrase=PASSPHRASE) as old_site:
        old_bundle = old_site.signer.public_bundle()
    with open_site(new_home, passphrase=NEW) as site:
        assert site.site_id == info.site_id == old_bundle.site_id
        assert list(site.database("twin").execute("SELECT x FROM t")) == [("plant data",)]
        assert site.get_blob("kv/1") == b"kv state"
        assert site.signer.public_bundle().fingerprint == old_bundle.fingerprint


def test_wrong_recipient_key_fails_cleanly(
    backed_up: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, backup, _ = backed_up
    _, other_key = recipient_keygen(tmp_path / "other")
    target = tmp_path / "restored"
    with pytest.raises(VaultError, match="cannot be opened with the key"):
        restore_site(backup, other_key, target, passphrase=NEW, kdf=FAST_KDF)
    assert not (target / "site.json").exists()


def test_tampered_backup_fails(backed_up: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, backup, key = backed_up
    import json

    data = json.loads(backup.read_text())
    data["header"]["site_id"] = "0" * 32  # header is associated data
    backup.write_text(json.dumps(data))
    with pytest.raises(VaultError, match="cannot be opened"):
        restore_site(backup, key, tmp_path / "r", passphrase=NEW, kdf=FAST_KDF)


def test_restore_refuses_existing_site(backed_up: tuple[Path, Path, Path]) -> None:
    home, backup, key = backed_up
    before = (home / "site.json").read_bytes()
    with pytest.raises(VaultError, match="never overwrites"):
        restore_site(backup, key, home, passphrase=NEW, kdf=FAST_KDF)
    assert (home / "site.json").read_bytes() == before


def test_loose_private_key_refused(backed_up: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, backup, key = backed_up
    os.chmod(key, 0o644)
    with pytest.raises(VaultError, match="chmod 600"):
        restore_site(backup, key, tmp_path / "r", passphrase=NEW, kdf=FAST_KDF)


def test_keygen_never_overwrites(tmp_path: Path) -> None:
    recipient_keygen(tmp_path / "r")
    with pytest.raises(VaultError, match="never overwrites"):
        recipient_keygen(tmp_path / "r")


def test_the_backup_is_standard_hpke_with_the_hybrid_kem(
    backed_up: tuple[Path, Path, Path],
) -> None:
    """Opened here with cryptography's HPKE alone (RFC 9180 base mode, MLKEM768-X25519,
    HKDF-SHA256, ChaCha20-Poly1305; the header is HPKE's info), not with our code."""
    import json

    from cryptography.hazmat.primitives import hpke
    from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from agent.vault import crypto

    home, backup, key = backed_up
    data = json.loads(backup.read_text())
    header = data["header"]
    assert header["version"] == 2
    assert header["suite"] == "HPKE-v1 base MLKEM768-X25519 HKDF-SHA256 ChaCha20Poly1305"
    private = json.loads(key.read_text())
    recipient = hpke.MLKEM768X25519PrivateKey(
        MLKEM768PrivateKey.from_seed_bytes(crypto.b64d(private["mlkem768_seed"])),
        X25519PrivateKey.from_private_bytes(crypto.b64d(private["x25519"])))
    suite = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256,
                       hpke.AEAD.CHACHA20_POLY1305)
    info = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    payload = json.loads(suite.decrypt(crypto.b64d(data["sealed"]), recipient, info=info))
    with open_site(home, passphrase=PASSPHRASE) as site:
        assert payload["site_id"] == site.site_id
        assert payload["audit_log_id"] == site.audit_log_id


def test_a_version_1_backup_still_restores(home: Path, tmp_path: Path) -> None:
    from .old_layouts import version_1_backup

    with open_site(home, passphrase=PASSPHRASE) as site:
        site.database("twin").execute("CREATE TABLE t(x); INSERT INTO t VALUES ('old')")
        fingerprint = site.signer.public_bundle().fingerprint
    pub, key = recipient_keygen(tmp_path / "recipient")
    old = tmp_path / "old-backup.json"
    version_1_backup(home, pub, old)
    info = restore_site(old, key, tmp_path / "restored", passphrase=NEW, kdf=FAST_KDF)
    shutil.copytree(home / "data", tmp_path / "restored" / "data", dirs_exist_ok=True)
    with open_site(tmp_path / "restored", passphrase=NEW) as site:
        assert site.site_id == info.site_id
        assert site.signer.public_bundle().fingerprint == fingerprint
        assert list(site.database("twin").execute("SELECT x FROM t")) == [("old",)]
        assert site.audit_log_id is None  # version 1 did not carry it: adopted on open
