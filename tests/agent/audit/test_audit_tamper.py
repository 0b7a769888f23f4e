"""Tampering by someone holding the database key, editing through the decrypted connection.

Every single mutation of the stored records is detected and the first bad record is named.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.audit import AuditLog
from agent.audit.records import format_ts, seal_record
from agent.audit.store import RECORD_COLUMNS
from agent.audit.vault_keys import VaultSigner

from .audit_helpers import StepClock, connector, fill

N = 12  # records in the base log; a stored checkpoint covers all of them
CHECKPOINT_1 = 6  # the earlier stored checkpoint
FIELDS = ["ts", "kind", "actor", "role", "tool", "equipment", "payload", "prev_hash", "hash"]


@pytest.fixture(scope="module")
def base_db(
    tmp_path_factory: pytest.TempPathFactory, signer: VaultSigner
) -> tuple[Path, bytes, str]:
    """A closed log of N records with checkpoints at 6 and N: (path, key, log_id)."""
    import secrets

    key = secrets.token_bytes(32)
    path = tmp_path_factory.mktemp("base") / "audit.db"
    log = AuditLog.open(
        connector(path, key), signer, signer.verifier(), clock=StepClock(), checkpoint_every=None
    )
    fill(log, CHECKPOINT_1)
    log.checkpoint()
    fill(log, N - CHECKPOINT_1)
    log.checkpoint()
    log_id = log.log_id
    log.close()
    return path, key, log_id


def rows_of(conn: Any) -> list[list[Any]]:
    return [list(r) for r in conn.execute(f"SELECT {RECORD_COLUMNS} FROM records ORDER BY seq")]


def rewrite(conn: Any, rows: list[list[Any]]) -> None:
    with conn:
        conn.execute("DELETE FROM records")
        for row in rows:
            conn.execute("INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?)", row)


def flip_char(text: str, position: int, replacement: str) -> str:
    position %= len(text)
    new = replacement if replacement != text[position] else chr(ord(replacement) ^ 1)
    return text[:position] + new + text[position + 1 :]


def forged(seq: int, prev_hash: str, when: Any) -> list[Any]:
    record = seal_record(
        seq=seq,
        ts=when,
        kind="approval",
        actor="mallory",
        role="admin",
        tool=None,
        equipment=None,
        payload={"approved": True},
        prev_hash=prev_hash,
    )
    return list(record.stored_row())


def mutate(rows: list[list[Any]], op: str, i: int, j: int, data: Any) -> int:
    """Apply one mutation (record indices 0-based); return the expected first bad seq."""
    n = len(rows)
    i %= n
    if op == "modify":
        field = data.draw(st.sampled_from(FIELDS))
        col = FIELDS.index(field) + 1
        value = rows[i][col]
        if value is None:
            rows[i][col] = "x"
        else:
            pos = data.draw(st.integers(0, 10_000))
            repl = data.draw(st.characters(codec="utf-8", exclude_categories=["Cs"]))
            rows[i][col] = flip_char(str(value), pos, repl)
        return i + 1
    if op == "change_seq":
        rows[i][0] = n + 5 + j
        return i + 1
    if op == "delete":
        del rows[i]
        return i + 1  # the missing one (the last one: caught by the checkpoint)
    if op in ("insert_raw", "insert_sealed", "duplicate"):
        at = i if op != "duplicate" else i + 1
        if op == "duplicate":
            new = list(rows[i])
        elif op == "insert_raw":
            new = forged(at + 1, rows[at - 1][9] if at else rows[0][8], StepClock()())
            new[9] = "f" * 64  # a hash the forger did not compute
        else:
            prev = rows[at - 1][9] if at else rows[0][8]
            new = forged(at + 1, prev, StepClock()())
        rows.insert(at, new)
        for k, row in enumerate(rows):
            row[0] = k + 1
        if op == "insert_sealed":
            # A well-formed forgery links; the record after it does not. A forgery that is
            # the last record under a checkpoint (6 or 12) fails that checkpoint first,
            # which then vouches for none of the records since the previous checkpoint:
            # the report names the start of that range.
            if at + 1 == CHECKPOINT_1:
                return 1
            return CHECKPOINT_1 + 1 if at + 1 == N else at + 2
        return at + 1
    if op == "reorder":
        j %= n
        if i == j:
            j = (i + 1) % n
        a, b = sorted((i, j))
        rows[a][1:], rows[b][1:] = rows[b][1:], rows[a][1:]
        return a + 1
    raise AssertionError(op)


OPS = ["modify", "change_seq", "delete", "insert_raw", "insert_sealed", "duplicate", "reorder"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(op=st.sampled_from(OPS), i=st.integers(0, 100), j=st.integers(0, 100), data=st.data())
def test_every_single_mutation_is_detected_and_located(
    base_db: tuple[Path, bytes, str],
    signer: VaultSigner,
    tmp_path_factory: pytest.TempPathFactory,
    op: str,
    i: int,
    j: int,
    data: Any,
) -> None:
    path, key, _ = base_db
    copy = tmp_path_factory.mktemp("mut") / "audit.db"
    shutil.copyfile(path, copy)
    log = AuditLog.open(connector(copy, key), signer, signer.verifier(), checkpoint_every=None)
    try:
        rows = rows_of(log._conn)
        if op == "insert_sealed":
            i %= N  # a well-formed record appended at the end is a legitimate append
        expected = mutate(rows, op, i, j, data)
        rewrite(log._conn, rows)
        report = log.verify()
    finally:
        log.close()
    assert not report.ok, f"{op} at {i} went unnoticed"
    assert report.first_bad_seq == expected, (op, report.problems)


def test_untouched_base_verifies(base_db: tuple[Path, bytes, str], signer: VaultSigner) -> None:
    path, key, _ = base_db
    with AuditLog.open(connector(path, key), signer, signer.verifier()) as log:
        report = log.verify()
    assert report.ok and report.records_verified == N and report.checkpoints_verified == 2


def test_altered_stored_checkpoint_is_reported(
    base_db: tuple[Path, bytes, str], signer: VaultSigner, tmp_path: Path
) -> None:
    path, key, _ = base_db
    copy = tmp_path / "audit.db"
    shutil.copyfile(path, copy)
    log = AuditLog.open(connector(copy, key), signer, signer.verifier())
    with log._conn:
        log._conn.execute("UPDATE checkpoints SET tree_size = 5 WHERE tree_size = 6")
        log._conn.execute(
            "UPDATE checkpoints SET ts = ? WHERE tree_size = ?", (format_ts(StepClock()()), N)
        )
    report = log.verify()
    log.close()
    assert not report.ok
    assert len(report.problems) == 2
    assert all("signature does not verify" in p.message for p in report.problems)


def test_changed_log_id_breaks_record_one_and_every_checkpoint(
    base_db: tuple[Path, bytes, str], signer: VaultSigner, tmp_path: Path
) -> None:
    path, key, _ = base_db
    copy = tmp_path / "audit.db"
    shutil.copyfile(path, copy)
    with AuditLog.open(connector(copy, key), signer, signer.verifier()) as log:
        log._conn.execute("UPDATE audit_meta SET value = ? WHERE key = 'log_id'", ("0" * 32,))
    with AuditLog.open(connector(copy, key), signer, signer.verifier()) as log:
        report = log.verify()
    assert not report.ok and report.first_bad_seq == 1
    assert sum("checkpoint is of log" in p.message for p in report.problems) == 2


@pytest.mark.parametrize("threaded", [True, False])
def test_many_checkpoints_report_alike_with_signatures_checked_aside(
    make_log: Any, monkeypatch: pytest.MonkeyPatch, threaded: bool
) -> None:
    """With many checkpoints their signatures are checked in a second thread while the
    chain is walked; the report is the one checking them in line gives."""
    from agent.audit import verify

    log = make_log(checkpoint_every=2)
    fill(log, 30)
    with log._conn:
        log._conn.execute(  # a forged signature on the checkpoint of size 8
            "UPDATE checkpoints SET ts = ? WHERE tree_size = 8", (format_ts(StepClock()()),))
        log._conn.execute("UPDATE records SET actor = 'mallory' WHERE seq = 17")
    monkeypatch.setattr(verify, "_SIGNATURES_IN_THREAD", 1 if threaded else 10**9)
    report = log.verify()
    assert not report.ok and report.first_bad_seq == 17
    assert report.checkpoints_verified == 7  # sizes 2..16 but 8
    assert [p.message.split(":")[0][:40] for p in report.problems] == [
        "checkpoint signature does not verify",
        "record 17 was altered (hash mismatch)",
        *[f"checkpoint of size {size} not checked" for size in range(18, 31, 2)],
    ]
