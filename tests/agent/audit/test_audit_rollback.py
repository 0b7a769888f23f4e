"""Truncation and rollback, caught against checkpoints kept outside the database."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent.audit import AuditWriteError
from agent.audit.checkpoints import read_checkpoint_file

from .audit_helpers import MakeLog, fill


def test_truncation_is_caught_by_an_exported_checkpoint(make_log: MakeLog, tmp_path: Path) -> None:
    export = tmp_path / "exported"
    log = make_log(export_dir=export)
    fill(log, 15)
    log.checkpoint()
    saved = read_checkpoint_file(export / "checkpoint-000000000015.json")
    # The attacker deletes the last 4 records and every stored checkpoint: the database
    # alone now looks like a healthy log of 11 records.
    with log._conn:
        log._conn.execute("DELETE FROM records WHERE seq > 11")
        log._conn.execute("DELETE FROM checkpoints")
    assert log.verify(include_export_dir=False).ok
    report = log.verify([("saved", saved)], include_export_dir=False)
    assert not report.ok
    assert report.first_bad_seq == 12
    assert "removed" in report.problems[0].message
    assert log.verify().first_bad_seq == 12  # the export directory holds it too


def test_restored_older_copy_is_caught(make_log: MakeLog, tmp_path: Path) -> None:
    export = tmp_path / "exported"
    db = tmp_path / "audit.db"
    log = make_log(export_dir=export)
    fill(log, 10)
    log.checkpoint()
    log.close()
    shutil.copyfile(db, tmp_path / "old.db")  # a backup taken at 10 records
    log = make_log(export_dir=export)
    fill(log, 10)
    log.checkpoint()
    log.close()
    shutil.copyfile(tmp_path / "old.db", db)  # rolled back to the backup
    log = make_log(export_dir=export)
    assert log.verify(include_export_dir=False).ok  # consistent in itself
    report = log.verify()
    assert not report.ok and report.first_bad_seq == 11
    assert "rollback" in report.problems[0].message


def test_rollback_then_new_appends_diverge_from_the_checkpoint(
    make_log: MakeLog, tmp_path: Path
) -> None:
    export = tmp_path / "exported"
    db = tmp_path / "audit.db"
    log = make_log(export_dir=export)
    fill(log, 8)
    log.checkpoint()
    log.close()
    shutil.copyfile(db, tmp_path / "old.db")
    log = make_log(export_dir=export)
    fill(log, 8)
    log.checkpoint()  # exported at 16
    log.close()
    shutil.copyfile(tmp_path / "old.db", db)
    log = make_log(export_dir=export)
    fill(log, 7)
    report = log.verify()
    assert not report.ok and report.first_bad_seq == 16  # shorter than the checkpoint
    log.append("answer", "agent", {"text": "a different record 16"})
    report = log.verify()
    assert not report.ok
    assert report.first_bad_seq == 9  # after the last checkpoint that still matches (8)
    assert "differ" in report.problems[0].message
    # A checkpoint of size 16 was exported before the rollback: the write-once file
    # refuses the new one, so the log cannot paper over the divergence.
    before = (export / "checkpoint-000000000016.json").read_bytes()
    with pytest.raises(AuditWriteError, match="rolled back"):
        log.checkpoint()
    assert (export / "checkpoint-000000000016.json").read_bytes() == before


def test_garbage_in_the_export_directory_is_reported_not_raised(
    make_log: MakeLog, tmp_path: Path
) -> None:
    export = tmp_path / "exported"
    log = make_log(export_dir=export)
    fill(log, 3)
    log.checkpoint()
    (export / "checkpoint-000000000099.json").write_text("{not json")
    report = log.verify()
    assert not report.ok
    assert any("not a valid audit checkpoint" in p.message for p in report.problems)
