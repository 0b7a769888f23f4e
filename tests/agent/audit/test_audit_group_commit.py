"""Group commit: concurrent appends share transactions, each caller still gets its own
durable record (or its own error), and verification's fast path proves exactly what the
full check proves."""

from __future__ import annotations

import string
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.audit import AuditWriteError
from agent.audit.fastpath import fast_leaf
from agent.audit.merkle import leaf_hash
from agent.audit.records import AUDIT_KINDS, record_body, record_from_row, seal_record

from .audit_helpers import MakeLog

THREADS, EACH = 12, 40


def test_concurrent_appends_are_batched_and_every_ack_is_stored(make_log: MakeLog) -> None:
    log = make_log(checkpoint_every=50)
    acked: dict[int, str] = {}
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def writer(k: int) -> None:
        start.wait()
        for i in range(EACH):
            record = log.append("tool_result", f"w{k}", {"k": k, "i": i}, tool="read_tags")
            with lock:
                assert record.seq not in acked
                acked[record.seq] = record.hash

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(acked) == list(range(1, THREADS * EACH + 1))
    stored = {r.seq: r.hash for r in log.search()}
    assert stored == acked
    # Several records shared a commit (12 threads cannot all have waited alone).
    assert log._group.batches < THREADS * EACH
    report = log.verify()
    assert report.ok, report.problems
    assert report.checkpoints_verified == (THREADS * EACH) // 50


def test_an_invalid_record_fails_alone_in_its_batch(make_log: MakeLog) -> None:
    log = make_log()
    errors: list[str] = []
    seqs: list[int] = []
    gate = threading.Barrier(8)

    def writer(k: int) -> None:
        gate.wait()
        payload: dict[str, Any] = {"bad": float("nan")} if k == 3 else {"k": k}
        try:
            seqs.append(log.append("answer", "agent", payload).seq)
        except AuditWriteError as exc:
            errors.append(exc.message)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 1 and "invalid" in errors[0]
    assert sorted(seqs) == list(range(1, 8))  # no gap where the bad one would have been
    assert log.verify().ok


def test_a_full_disk_fails_every_record_of_the_batch_and_acks_none(make_log: MakeLog) -> None:
    log = make_log()
    log.append("answer", "agent", {"i": 0})
    (pages,) = log._conn.execute("PRAGMA page_count").fetchall()[0]
    assert isinstance(pages, int)
    log._conn.execute(f"PRAGMA max_page_count={pages}")
    outcomes: list[str] = []
    gate = threading.Barrier(6)

    def writer(k: int) -> None:
        gate.wait()
        try:
            log.append("tool_result", "agent", {"blob": "x" * 30_000, "k": k})
            outcomes.append("acked")
        except AuditWriteError:
            outcomes.append("refused")

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == ["refused"] * 6
    assert log.size() == 1
    log._conn.execute(f"PRAGMA max_page_count={pages * 100}")
    assert log.append("answer", "agent", {"i": 1}).seq == 2
    assert log.verify().ok


_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | _text
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from([k for k in AUDIT_KINDS if k != "review_note"]),
    actor=st.text(string.printable + "äöü€\u2028\"\\", min_size=1, max_size=40),
    role=st.none() | _text.filter(bool),
    tool=st.none() | _text.filter(bool),
    equipment=st.none() | _text.filter(bool),
    payload=st.dictionaries(_text, _json, max_size=5),
    micros=st.integers(0, 10**15),
)
def test_the_fast_path_proves_exactly_the_sealed_rows(
    kind: str, actor: str, role: str | None, tool: str | None, equipment: str | None,
    payload: dict[str, Any], micros: int,
) -> None:
    ts = datetime.fromtimestamp(micros / 1e6, UTC)
    record = seal_record(seq=7, ts=ts, kind=kind, actor=actor, role=role, tool=tool,
                         equipment=equipment, payload=payload, prev_hash="ab" * 32)
    row = record.stored_row()
    assert fast_leaf(row, 7, "ab" * 32) == bytes.fromhex(record.hash)
    assert fast_leaf(row, 8, "ab" * 32) is None  # out of place
    assert fast_leaf(row, 7, "cd" * 32) is None  # does not link
    for column in (1, 3, 7):  # ts, actor, payload: any change is not proven
        changed = list(row)
        changed[column] = str(changed[column]) + " "
        assert fast_leaf(changed, 7, "ab" * 32) is None


def test_review_notes_always_take_the_full_check() -> None:
    record = seal_record(seq=1, ts=datetime.now(UTC), kind="review_note", actor="ana",
                         role=None, tool=None, equipment=None, payload={}, prev_hash="00" * 32)
    assert fast_leaf(record.stored_row(), 1, "00" * 32) is None


@pytest.mark.parametrize("column", range(10))
def test_a_mangled_column_falls_back_to_the_full_check(make_log: MakeLog, column: int) -> None:
    log = make_log()
    for i in range(5):
        log.append("answer", "agent", {"i": i}, role="r", tool="t", equipment="e")
    names = ["seq", "ts", "kind", "actor", "role", "tool", "equipment", "payload",
             "prev_hash", "hash"]
    with log._conn:
        log._conn.execute(f"UPDATE records SET {names[column]} = ? WHERE seq = 3",
                          (12345 if column == 0 else "x",))  # seq: a gap
    report = log.verify()
    assert not report.ok and report.first_bad_seq == 3, report.problems


def test_the_fast_path_proves_no_time_written_in_other_digits() -> None:
    """A row whose time has digits of another script (which ``\\d`` would match), hashed
    as such by someone who rewrote it, is left to the full check, which refuses it."""
    record = seal_record(seq=1, ts=datetime(2026, 3, 1, 8, 0, tzinfo=UTC), kind="answer",
                         actor="ana", role=None, tool=None, equipment=None, payload={},
                         prev_hash="00" * 32)
    row = list(record.stored_row())
    row[1] = row[1].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    body = record_body(seq=1, ts=row[1], kind="answer", actor="ana", role=None, tool=None,
                       equipment=None, payload={}, prev_hash="00" * 32)
    row[9] = leaf_hash(body).hex()
    assert fast_leaf(row, 1, "00" * 32) is None
    with pytest.raises(ValueError):
        record_from_row(tuple(row))
