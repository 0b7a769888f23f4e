"""No plaintext reaches the disk: markers written through the API are found in no file."""

from __future__ import annotations

from pathlib import Path

from agent.vault import open_site

from .vault_helpers import PASSPHRASE

MARKERS = [b"CANARY-TWIN-7f3a", b"CANARY-AUDIT-91c2", b"CANARY-BLOB-55de", b"canary-kv/name"]


def _scan(root: Path) -> list[tuple[str, bytes]]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for marker in MARKERS:
                # Also UTF-16, in case something stores text that way.
                if marker in data or marker.decode().encode("utf-16-le") in data:
                    found.append((str(path), marker))
    return found


def test_no_marker_in_any_site_file(home: Path) -> None:
    site = open_site(home, passphrase=PASSPHRASE)
    twin = site.database("twin")
    audit = site.database("audit", synchronous_full=True)
    twin.execute("CREATE TABLE t(x TEXT)")
    audit.execute("CREATE TABLE a(x TEXT)")
    with twin:
        for i in range(2000):  # enough pages to spill and a sort that needs temp space
            twin.execute("INSERT INTO t VALUES (?)", (f"{MARKERS[0].decode()} {i} " + "y" * 200,))
    audit.execute("INSERT INTO a VALUES (?)", (MARKERS[1].decode(),))
    list(twin.execute("SELECT x FROM t ORDER BY substr(x, 20) DESC"))
    site.put_blob(MARKERS[3].decode(), MARKERS[2] * 50)

    # While open: the WAL files hold the recent commits.
    wal_files = list((home / "data").glob("*.db-wal"))
    assert wal_files and any(p.stat().st_size > 0 for p in wal_files)
    assert _scan(home) == []

    # A rollback-journal transaction too (journal_mode switched for one write).
    list(twin.execute("PRAGMA journal_mode=DELETE"))
    with twin:
        twin.execute("UPDATE t SET x = x || ' edited'")
        journal = home / "data" / "twin.db-journal"
        assert journal.is_file() and journal.stat().st_size > 100_000
        assert _scan(home) == []
    list(twin.execute("PRAGMA journal_mode=WAL"))

    site.close()
    assert _scan(home) == []
    # And the data is really there.
    with open_site(home, passphrase=PASSPHRASE) as again:
        rows = list(again.database("audit").execute("SELECT x FROM a"))
        assert rows == [(MARKERS[1].decode(),)]
        assert again.get_blob(MARKERS[3].decode()) == MARKERS[2] * 50
