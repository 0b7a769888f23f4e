"""Fail closed: when a record cannot be made durable, append raises and nothing is done."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import apsw
import pytest

from agent.audit import AuditLog, AuditWriteError
from agent.audit.vault_keys import VaultSigner
from agent.vault import open_database

from .audit_helpers import MakeLog, StepClock, fill


def assert_action_not_run(log: AuditLog, payload: dict[str, Any] | None = None) -> None:
    ran: list[bool] = []
    with pytest.raises(AuditWriteError), log.action("tool_call", "agent", payload or {}, tool="t"):
        ran.append(True)
    assert ran == []


def test_read_only_database(
    make_log: MakeLog, tmp_path: Path, db_key: bytes, signer: VaultSigner
) -> None:
    fill(make_log(), 3)

    def read_only() -> apsw.Connection:
        conn = apsw.Connection(str(tmp_path / "audit.db"), flags=apsw.SQLITE_OPEN_READONLY)
        conn.execute("PRAGMA cipher='chacha20'")
        conn.execute(f"PRAGMA key=\"x'{db_key.hex()}'\"")
        return conn

    log = AuditLog.open(read_only, signer, signer.verifier())
    with pytest.raises(AuditWriteError, match="could not be written"):
        log.append("question", "alice", {"q": "?"})
    assert_action_not_run(log)
    assert log.size() == 3 and log.verify().ok
    log.close()


def test_closed_connection(tmp_path: Path, db_key: bytes, signer: VaultSigner) -> None:
    conn = open_database(tmp_path / "a.db", db_key, create=True, synchronous_full=True)
    log = AuditLog.open(lambda: conn, signer, signer.verifier(), close_connection=False)
    log.append("question", "alice", {})
    conn.close()  # e.g. the site was closed under the agent
    with pytest.raises(AuditWriteError):
        log.append("question", "alice", {})
    assert_action_not_run(log)


def test_closed_log(make_log: MakeLog) -> None:
    log = make_log()
    log.close()
    with pytest.raises(AuditWriteError, match="closed"):
        log.append("question", "alice", {})
    assert_action_not_run(log)


def test_disk_full(make_log: MakeLog) -> None:
    log = make_log(checkpoint_every=3)
    fill(log, 4)
    (pages,) = log._conn.execute("PRAGMA page_count").fetchall()[0]
    assert isinstance(pages, int)
    log._conn.execute(f"PRAGMA max_page_count={pages}")  # no room for one more page
    big = {"blob": "x" * 20_000}
    with pytest.raises(AuditWriteError, match="could not be written"):
        log.append("tool_result", "agent", big)
    assert_action_not_run(log, big)
    assert log.size() == 4
    log._conn.execute(f"PRAGMA max_page_count={pages * 100}")  # space again
    assert log.append("tool_result", "agent", big).seq == 5
    assert log.verify().ok


def test_unwritable_export_directory(make_log: MakeLog, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the export directory should be")
    log = make_log(export_dir=blocker / "checkpoints", checkpoint_every=2)
    log.append("question", "alice", {})
    with pytest.raises(AuditWriteError, match="checkpoint file"):
        log.append("question", "alice", {})


def test_existing_checkpoint_file_is_never_overwritten(make_log: MakeLog, tmp_path: Path) -> None:
    export = tmp_path / "exported"
    export.mkdir()
    target = export / "checkpoint-000000000002.json"
    target.write_text("kept")
    log = make_log(export_dir=export, clock=StepClock())
    log.append("question", "alice", {})
    log.append("answer", "agent", {})
    with pytest.raises(AuditWriteError, match="never overwritten"):
        log.checkpoint()
    assert target.read_text() == "kept"
