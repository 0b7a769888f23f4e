"""Record format versions in one log: records written before RFC 8785 records (version 1,
in a database from before the version column) keep verifying after the upgrade, and new
ones are written as version 2."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.audit import store
from agent.audit.merkle import leaf_hash
from agent.audit.records import AuditRecord, format_ts, genesis_hash, record_body
from agent.vault.layout import AUDIT_DATABASE
from agent.vault.migrations import apply_migrations

from .audit_helpers import MakeLog, connector

_OLD_PAYLOADS = [{"value": 1e-7, "whole": 58.0}, {"big": 1e16, "text": "ünï"}, {"i": 3}]


def _old_database(path: Path, key: bytes) -> str:
    """An audit database as the code before version 2 wrote it: first migration only,
    records hashed over Python's canonical JSON."""
    conn = connector(path, key)()
    apply_migrations(conn, AUDIT_DATABASE, store.MIGRATIONS[:1], legacy_user_version=True)
    log_id = "0f" * 16
    prev = genesis_hash(log_id)
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    with conn:
        conn.execute("INSERT INTO audit_meta (key, value) VALUES ('log_id', ?)", (log_id,))
        for seq, payload in enumerate(_OLD_PAYLOADS, start=1):
            ts = moment + timedelta(seconds=seq)
            body = record_body(seq=seq, ts=format_ts(ts), kind="tool_result", actor="agent",
                               role=None, tool="read_tags", equipment=None, payload=payload,
                               prev_hash=prev, version=1)
            record = AuditRecord(seq=seq, ts=ts, kind="tool_result", actor="agent",
                                 tool="read_tags", payload=payload, prev_hash=prev,
                                 hash=leaf_hash(body).hex(), version=1)
            conn.execute("INSERT INTO records (seq, ts, kind, actor, role, tool, equipment, "
                         "payload, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
                         record.stored_row()[:10])
            prev = record.hash
    conn.close()
    return log_id


def test_old_records_keep_verifying_and_new_ones_are_version_2(
    make_log: MakeLog, tmp_path: Path, db_key: bytes
) -> None:
    path = tmp_path / "old.db"
    log_id = _old_database(path, db_key)
    log = make_log(path)
    assert log.log_id == log_id
    assert log.verify().ok, log.verify().summary()
    log.append("tool_result", "agent", {"value": 1e-7, "whole": 58.0}, tool="read_tags")
    log.checkpoint()
    report = log.verify()
    assert report.ok, report.summary()
    records = log.search()
    assert [r.version for r in records] == [1, 1, 1, 2]
    # The same payload, two encodings: the old record keeps its Python number forms.
    assert b'"value":1e-07' in records[0].body()
    assert b'"value":1e-7' in records[3].body() and b'"whole":58}' in records[3].body()


def test_a_record_relabelled_to_another_version_is_found(
    make_log: MakeLog, tmp_path: Path, db_key: bytes
) -> None:
    path = tmp_path / "old.db"
    _old_database(path, db_key)
    log = make_log(path)
    log._conn.execute("UPDATE records SET version = 2 WHERE seq = 2")
    report = log.verify()
    assert not report.ok and report.first_bad_seq == 2
