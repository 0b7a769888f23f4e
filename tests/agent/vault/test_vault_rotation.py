"""Key rotation: rewrap and rekey keep data readable; old secrets stop working."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.errors import VaultError
from agent.vault import init_site, open_database, open_site, rekey, rewrap
from agent.vault.keys import unlock
from agent.vault.layout import database_key
from agent.vault.manifest import load_manifest

from .vault_helpers import FAST_KDF, PASSPHRASE

NEW = "a brand new passphrase"


def _fill(home: Path, passphrase: str = PASSPHRASE) -> None:
    with open_site(home, passphrase=passphrase) as site:
        for name in ("twin", "audit"):
            conn = site.database(name)
            conn.execute("CREATE TABLE t(x TEXT)")
            conn.execute("INSERT INTO t VALUES (?)", (f"{name} data",))
        site.put_blob("kv/1", b"cache one")
        site.put_blob("kv/2", b"cache two")


def _check(home: Path, passphrase: str | None = PASSPHRASE) -> None:
    with open_site(home, passphrase=passphrase) as site:
        for name in ("twin", "audit"):
            assert list(site.database(name).execute("SELECT x FROM t")) == [(f"{name} data",)]
        assert site.get_blob("kv/1") == b"cache one"
        assert site.get_blob("kv/2") == b"cache two"
        assert site.list_blobs() == ["kv/1", "kv/2"]


def test_rewrap_new_passphrase(home: Path) -> None:
    _fill(home)
    events: list[tuple[str, dict[str, Any]]] = []
    dek_before = unlock(home, PASSPHRASE).dek
    rewrap(
        home,
        passphrase=PASSPHRASE,
        new_passphrase=NEW,
        kdf=FAST_KDF,
        on_event=lambda k, p: events.append((k, p)),
    )
    with pytest.raises(VaultError, match="wrong passphrase"):
        open_site(home, passphrase=PASSPHRASE)
    _check(home, NEW)
    assert unlock(home, NEW).dek == dek_before  # same data key, new wrapping
    assert [k for k, _ in events] == ["vault.rotate.rewrap"]
    assert load_manifest(home).rotated is not None


def test_rewrap_wrong_old_passphrase_changes_nothing(home: Path) -> None:
    before = (home / "site.json").read_bytes()
    with pytest.raises(VaultError, match="wrong passphrase"):
        rewrap(home, passphrase="nope nope nope", new_passphrase=NEW, kdf=FAST_KDF)
    assert (home / "site.json").read_bytes() == before


def test_rewrap_demo_keyfile_replaces_keyfile(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    init_site(home, demo_keyfile=True)
    _fill(home, passphrase="")
    old_key = (home / "demo.key").read_bytes()
    rewrap(home, new_keyfile=True)
    assert not (home / "demo.key").exists()
    new_files = list(home.glob("demo-*.key"))
    assert len(new_files) == 1 and new_files[0].read_bytes() != old_key
    _check(home, None)
    # Leaving demo mode: from key file to passphrase, the key file goes away.
    rewrap(home, new_passphrase=NEW, kdf=FAST_KDF)
    assert list(home.glob("*.key")) == []
    assert load_manifest(home).demo is False
    _check(home, NEW)


def test_rekey_reencrypts_everything(home: Path) -> None:
    _fill(home)
    old = unlock(home, PASSPHRASE)
    events: list[tuple[str, dict[str, Any]]] = []
    report = rekey(home, passphrase=PASSPHRASE, on_event=lambda k, p: events.append((k, p)))
    assert report.databases == ["audit", "twin"]
    assert report.blobs == 2
    assert report.old_dek_id != report.new_dek_id
    assert events == [("vault.rotate.rekey", report.payload())]
    _check(home)  # same passphrase, new DEK
    new = unlock(home, PASSPHRASE)
    assert new.dek != old.dek
    assert new.manifest.dek_id == report.new_dek_id
    # The old database keys no longer open the files.
    for name in ("twin", "audit"):
        path = home / "data" / f"{name}.db"
        with pytest.raises(VaultError, match="wrong key"):
            open_database(path, database_key(old.dek, old.manifest.site_id, name))
    assert not (home / "site.json.rekey").exists()
    # Signing keys survive a rekey (resealed under the new DEK).
    with open_site(home, passphrase=PASSPHRASE) as site:
        assert site.signer.public_bundle().ed25519 == old.manifest.signing.ed25519_public


def test_rekey_interrupted_is_finished_on_next_open(home: Path) -> None:
    _fill(home)
    steps: list[str] = []

    def crash_after_first_db(step: str) -> None:
        steps.append(step)
        if len(steps) == 2:  # the first database is done, the second about to start
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rekey(home, passphrase=PASSPHRASE, progress=crash_after_first_db)
    assert (home / "site.json.rekey").exists()  # the rotation is pending
    old_dek = unlock(home, PASSPHRASE).dek  # site.json still the old one

    events: list[tuple[str, dict[str, Any]]] = []
    with open_site(home, passphrase=PASSPHRASE, on_event=lambda k, p: events.append((k, p))):
        pass
    assert not (home / "site.json.rekey").exists()
    assert events[0][0] == "vault.rotate.rekey" and events[0][1]["resumed"] is True
    assert unlock(home, PASSPHRASE).dek != old_dek
    _check(home)


def test_rotation_refused_while_site_open(home: Path) -> None:
    _fill(home)
    with open_site(home, passphrase=PASSPHRASE), pytest.raises(VaultError, match="in use"):
        rekey(home, passphrase=PASSPHRASE)
    _check(home)
