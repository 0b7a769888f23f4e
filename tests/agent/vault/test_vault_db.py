"""open_database and the site's named databases and blobs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.errors import VaultError
from agent.vault import Site, open_database, open_site

from .vault_helpers import PASSPHRASE


def test_database_settings(site: Site) -> None:
    conn = site.database("twin")
    assert list(conn.execute("PRAGMA journal_mode")) == [("wal",)]
    assert list(conn.execute("PRAGMA temp_store")) == [(2,)]  # 2 = MEMORY
    assert list(conn.execute("PRAGMA cipher")) == [("chacha20",)]
    assert list(conn.execute("PRAGMA synchronous")) == [(1,)]  # NORMAL
    audit = site.database("audit", synchronous_full=True)
    assert list(audit.execute("PRAGMA synchronous")) == [(2,)]  # FULL
    assert site.database("twin") is conn  # one connection per name


def test_sqlite_vec_is_loaded(site: Site) -> None:
    conn = site.database("twin")
    assert list(conn.execute("SELECT vec_version()")) == [("v0.1.9",)]
    conn.execute("CREATE VIRTUAL TABLE v USING vec0(embedding float[3])")
    conn.execute("INSERT INTO v(rowid, embedding) VALUES (1, '[1, 0, 0]'), (2, '[0, 1, 0]')")
    rows = list(
        conn.execute(
            "SELECT rowid FROM v WHERE embedding MATCH '[0.9, 0.1, 0]' ORDER BY distance LIMIT 1"
        )
    )
    assert rows == [(1,)]


def test_data_survives_reopen(home: Path) -> None:
    with open_site(home, passphrase=PASSPHRASE) as site:
        site.database("reports").execute("CREATE TABLE r(x); INSERT INTO r VALUES ('kept')")
    with open_site(home, passphrase=PASSPHRASE) as site:
        assert list(site.database("reports").execute("SELECT x FROM r")) == [("kept",)]
        assert (home / "data" / "reports.db").is_file()


def test_missing_database_without_create(tmp_path: Path, site: Site) -> None:
    with pytest.raises(VaultError, match="does not exist"):
        open_database(tmp_path / "nope.db", os.urandom(32))
    with pytest.raises(VaultError, match="does not exist"):
        site.database("never_made", create=False)
    assert not (tmp_path / "nope.db").exists()


def test_bad_database_name(site: Site) -> None:
    for name in ("../x", "Twin", "", "a b"):
        with pytest.raises(VaultError, match="invalid database name"):
            site.database(name)


def test_blobs_round_trip(site: Site) -> None:
    assert site.get_blob("kv/none") is None
    site.put_blob("kv/1", b"\x00" * 10 + b"payload")
    site.put_blob("kv/1", b"replaced")
    site.put_blob("kv/2", b"")
    assert site.get_blob("kv/1") == b"replaced"
    assert site.get_blob("kv/2") == b""
    assert site.list_blobs() == ["kv/1", "kv/2"]
    assert site.delete_blob("kv/2") is True
    assert site.delete_blob("kv/2") is False
    assert site.list_blobs() == ["kv/1"]


def test_closed_site_refuses_use(home: Path) -> None:
    site = open_site(home, passphrase=PASSPHRASE)
    site.close()
    with pytest.raises(VaultError, match="closed"):
        site.database("twin")


def test_vault_imports_nothing_it_must_not() -> None:
    import subprocess
    import sys

    code = (
        "import sys, agent.vault, agent.vault.backup, agent.vault.passphrase; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('tools', 'terminal_ui', 'llama_cpp', 'asyncua') or m.startswith('agent.audit')]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
