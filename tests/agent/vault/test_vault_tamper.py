"""Every site file is authenticated: a flipped byte is detected with a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.errors import IntegrityError, VaultError
from agent.vault import open_site
from agent.vault.manifest import load_manifest

from .vault_helpers import PASSPHRASE, flip_byte


def test_every_byte_of_site_json_is_checked(home: Path) -> None:
    path = home / "site.json"
    original = path.read_bytes()
    for offset in range(len(original)):
        flip_byte(path, offset)
        with pytest.raises(IntegrityError) as info:
            load_manifest(home)
        assert str(path) in str(info.value)
        path.write_bytes(original)
    load_manifest(home)  # restored file is accepted again


def test_flipped_site_json_refused_by_open(home: Path) -> None:
    flip_byte(home / "site.json", 200)
    with pytest.raises(IntegrityError, match=r"site\.json"):
        open_site(home, passphrase=PASSPHRASE)


def test_edit_with_recomputed_checksum_caught_by_mac(home: Path) -> None:
    # Someone who knows the file format rewrites a field and fixes the plain checksum;
    # only the keyed MAC, checked after unlocking, can catch that.
    from agent.vault import crypto
    from agent.vault.manifest import SiteManifest

    manifest = load_manifest(home)
    data = manifest.model_dump(mode="json")
    data["created"] = "2000-01-01T00:00:00+00:00"
    data.pop("checksum")
    data["checksum"] = crypto.sha256_hex(
        (json.dumps(data, sort_keys=True, indent=2) + "\n").encode()
    )
    forged = SiteManifest(**data)
    (home / "site.json").write_bytes(forged.to_bytes())
    load_manifest(home)  # passes the plain checksum...
    with pytest.raises(IntegrityError, match="altered"):
        open_site(home, passphrase=PASSPHRASE)  # ...but not the MAC


def _make_db(home: Path) -> Path:
    with open_site(home, passphrase=PASSPHRASE) as site:
        conn = site.database("twin")
        conn.execute("CREATE TABLE t(x TEXT)")
        with conn:
            for i in range(200):
                conn.execute("INSERT INTO t VALUES (?)", (f"row {i} " + "x" * 100,))
        return site.database_path("twin")


@pytest.mark.parametrize("where", ["page1", "page1_salt", "middle", "last"])
def test_flipped_database_byte_detected(home: Path, where: str) -> None:
    path = _make_db(home)
    size = path.stat().st_size
    offset = {"page1": 100, "page1_salt": 3, "middle": size // 2, "last": size - 5}[where]
    flip_byte(path, offset)
    with open_site(home, passphrase=PASSPHRASE) as site, pytest.raises(IntegrityError) as info:
        # Page 1 is checked at open; other pages when read (a full scan here).
        conn = site.database("twin")
        from agent.vault import check_database

        check_database(conn, path)
    assert str(path) in str(info.value)
    assert "altered" in str(info.value)


def test_database_opened_with_other_db_key_is_vault_error(home: Path) -> None:
    from agent.vault import open_database
    from agent.vault.keys import unlock
    from agent.vault.layout import database_key

    path = _make_db(home)
    u = unlock(home, PASSPHRASE)
    wrong = database_key(u.dek, u.manifest.site_id, "audit")  # per-db keys differ
    with pytest.raises(VaultError, match="wrong key") as info:
        open_database(path, wrong)
    assert not isinstance(info.value, IntegrityError)
    open_database(path, database_key(u.dek, u.manifest.site_id, "twin")).close()


def test_flipped_blob_detected(site_home_with_blob: tuple[Path, Path]) -> None:
    home, blob_file = site_home_with_blob
    flip_byte(blob_file, blob_file.stat().st_size // 2)
    with open_site(home, passphrase=PASSPHRASE) as site, pytest.raises(IntegrityError) as info:
        site.get_blob("kv/cache-1")
    assert str(blob_file) in str(info.value)


def test_blob_swapped_onto_another_name_detected(home: Path) -> None:
    with open_site(home, passphrase=PASSPHRASE) as site:
        site.put_blob("a", b"alpha")
        site.put_blob("b", b"beta")
        pa, pb = site._blobs.path_of("a"), site._blobs.path_of("b")
        pb.write_bytes(pa.read_bytes())
        with pytest.raises(IntegrityError):
            site.get_blob("b")


@pytest.fixture
def site_home_with_blob(home: Path) -> tuple[Path, Path]:
    with open_site(home, passphrase=PASSPHRASE) as site:
        site.put_blob("kv/cache-1", b"state" * 1000)
        files = list((home / "blobs").iterdir())
    assert len(files) == 1
    return home, files[0]
