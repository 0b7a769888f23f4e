"""The audit log over a real encrypted database: append, verify, search, checkpoints."""

from __future__ import annotations

import asyncio
import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.audit import AuditLog, AuditSink, AuditWriteError, MemoryAuditSink, audited
from agent.audit.checkpoints import read_checkpoint_dir
from agent.audit.errors import AuditUsageError

from .audit_helpers import MakeLog, StepClock, fill


def test_append_then_verify_round_trip(make_log: MakeLog) -> None:
    log = make_log()
    first = log.append("question", "alice", {"question": "Why is P-101 hot?"}, role="shift_lead")
    second = log.append(
        "tool_call",
        "agent",
        {"args": {"tags": ["P-101.Temp"]}},
        tool="read_tags",
        equipment="P-101",
    )
    assert (first.seq, second.seq) == (1, 2)
    assert second.prev_hash == first.hash
    assert first.ts == datetime(2026, 3, 1, 8, 0, 1, tzinfo=UTC)  # the injected clock
    log.checkpoint()
    report = log.verify()
    assert report.ok, report.problems
    assert (report.records_verified, report.checkpoints_verified) == (2, 1)
    assert report.signatures_checked


def test_records_survive_reopening(make_log: MakeLog, tmp_path: Path) -> None:
    log = make_log()
    fill(log, 7)
    log.close()
    again = make_log()
    assert again.size() == 7
    assert again.append("answer", "agent", {"text": "done"}).seq == 8
    assert again.verify().ok


def test_search_filters(make_log: MakeLog) -> None:
    log = make_log()
    fill(log, 20)
    assert {r.kind for r in log.search(kind="tool_call")} == {"tool_call"}
    assert all(r.actor == "agent" for r in log.search(actor="agent"))
    assert all(r.equipment == "P-101" for r in log.search(equipment="P-101"))
    assert [r.payload["i"] for r in log.search(text="STEP 13")] == [13]
    since = datetime(2026, 3, 1, 8, 0, 5, tzinfo=UTC)
    until = datetime(2026, 3, 1, 8, 0, 8, tzinfo=UTC)
    assert [r.seq for r in log.search(since=since, until=until)] == [5, 6, 7]
    assert [r.seq for r in log.last(3)] == [18, 19, 20]
    both = log.search(kind="tool_result", tool="read_tags", equipment="P-101")
    assert both and all(r.kind == "tool_result" and r.equipment == "P-101" for r in both)


async def test_append_async_runs_off_the_loop(make_log: MakeLog) -> None:
    log = make_log()
    records = await asyncio.gather(
        *(log.append_async("model_call", "agent", {"n": i}) for i in range(10))
    )
    assert sorted(r.seq for r in records) == list(range(1, 11))
    assert log.verify().ok


def test_unknown_kind_and_bad_payload_fail_closed(make_log: MakeLog) -> None:
    log = make_log()
    with pytest.raises(AuditWriteError, match="unknown audit record kind"):
        log.append("launch_missiles", "agent", {})
    with pytest.raises(AuditWriteError, match="invalid"):
        log.append("error", "agent", {"x": float("nan")})
    with pytest.raises(AuditWriteError):
        log.append("error", "", {})
    assert log.size() == 0


def test_action_helper_records_before_acting_and_records_failures(make_log: MakeLog) -> None:
    log = make_log()
    with log.action("tool_call", "agent", {"args": {}}, tool="write_setpoint") as record:
        assert log.size() == record.seq == 1  # durable before the body runs
    with pytest.raises(RuntimeError), log.action("tool_call", "agent", {}, tool="x"):
        raise RuntimeError("valve stuck")
    error = log.last(1)[0]
    assert error.kind == "error"
    assert error.payload == {"during_seq": 2, "error": "RuntimeError", "detail": "valve stuck"}


async def test_audited_does_not_act_when_the_sink_fails() -> None:
    calls: list[str] = []

    async def act() -> str:
        calls.append("acted")
        return "ok"

    sink = MemoryAuditSink()
    assert await audited(sink, "tool_call", "agent", {"a": 1}, act, tool="t") == "ok"
    with pytest.raises(AuditWriteError):
        await audited(MemoryAuditSink(fail=True), "tool_call", "agent", {}, act)
    assert calls == ["acted"]
    assert sink.kinds() == ["tool_call"]


def test_audit_log_is_an_audit_sink(make_log: MakeLog) -> None:
    log: AuditLog = make_log()
    sink: AuditSink = log  # what the agent loop and the approvals hold
    assert sink.append("question", "ana", {"question": "q"}).seq == 1


def test_periodic_checkpoints_are_exported_write_once(make_log: MakeLog, tmp_path: Path) -> None:
    export = tmp_path / "checkpoints"
    log = make_log(checkpoint_every=5, export_dir=export)
    fill(log, 12)
    files = sorted(p.name for p in export.iterdir())
    assert files == ["checkpoint-000000000005.json", "checkpoint-000000000010.json"]
    mode = (export / files[0]).stat().st_mode
    assert not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert [cp.tree_size for _, cp in read_checkpoint_dir(export)[0]] == [5, 10]
    assert log.checkpoint().tree_size == 12
    assert log.checkpoint().tree_size == 12  # nothing new: the same one, no new file
    assert len(list(export.iterdir())) == 3
    data = json.loads((export / files[0]).read_text())
    assert data["tree_size"] == 5 and data["key_id"] == log.signer.key_id
    report = log.verify()
    assert report.ok and report.checkpoints_verified == 6  # 3 stored + 3 exported


def test_review_note_is_chained_signed_and_bound_to_the_records(make_log: MakeLog) -> None:
    log = make_log()
    fill(log, 6)
    note = log.review("auditor", 2, 4, "finding", "tool call without approval", role="auditor")
    assert note.kind == "review_note" and note.seq == 7
    assert note.prev_hash == log.search(seq_from=6, seq_to=6)[0].hash
    assert note.payload["verdict"] == "finding" and note.payload["key_id"] == log.signer.key_id
    assert log.stored_checkpoints()[-1].tree_size == 7  # the note is under a signature now
    assert log.verify().ok
    with pytest.raises(AuditUsageError):
        log.review("auditor", 5, 99, "reviewed", "beyond the end")
    with pytest.raises(AuditUsageError):
        log.review("auditor", 1, 1, "fine", "bad verdict")


def test_review_note_rewritten_with_a_consistent_chain_is_caught(
    make_log: MakeLog, tmp_path: Path
) -> None:
    """Someone with the database key rewrites a note and recomputes every hash: the
    chain is consistent again, but the note's signature (and the checkpoint) fail."""
    from agent.audit.records import seal_record

    log = make_log()
    fill(log, 4)
    log.review("auditor", 1, 4, "finding", "missing approval")
    conn = log._conn
    rows = list(
        conn.execute(
            "SELECT seq, ts, kind, actor, role, tool, equipment, payload, "
            "prev_hash, hash, version FROM records ORDER BY seq"
        )
    )
    note = json.loads(rows[4][7])
    note["verdict"] = "accepted"
    seal = seal_record(
        seq=5,
        ts=log.search(seq_from=5)[0].ts,
        kind="review_note",
        actor="auditor",
        role=None,
        tool=None,
        equipment=None,
        payload=note,
        prev_hash=rows[3][9],
    )
    conn.execute("DELETE FROM records WHERE seq = 5")
    conn.execute("INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?)", seal.stored_row())
    report = log.verify()
    assert not report.ok
    assert report.first_bad_seq == 5
    assert "signature" in report.problems[0].message


def test_clock_must_be_timezone_aware(make_log: MakeLog) -> None:
    log = make_log(clock=lambda: datetime(2026, 3, 1))
    with pytest.raises(AuditWriteError):
        log.append("question", "alice", {})
    assert StepClock()().tzinfo is UTC


def test_inclusion_and_consistency_proofs_match_signed_checkpoints(make_log: MakeLog) -> None:
    from agent.audit.merkle import verify_consistency, verify_inclusion

    log = make_log()
    fill(log, 5)
    old = log.checkpoint()
    fill(log, 8)
    new = log.checkpoint()
    record = log.search(seq_from=4, seq_to=4)[0]
    proof = [bytes.fromhex(h) for h in log.inclusion_proof(4, new.tree_size)]
    root = bytes.fromhex(new.root_hash)
    assert verify_inclusion(bytes.fromhex(record.hash), 3, new.tree_size, proof, root)
    link = [bytes.fromhex(h) for h in log.consistency_proof(old.tree_size, new.tree_size)]
    assert verify_consistency(5, 13, bytes.fromhex(old.root_hash), root, link)
    with pytest.raises(AuditUsageError):
        log.inclusion_proof(14, 13)



def test_two_writers_on_one_database_keep_one_chain(make_log: MakeLog, tmp_path: Path) -> None:
    """Two connections (as two processes would have) append in turn; checkpoints of each
    are made once and the chain stays whole."""
    export = tmp_path / "exported"
    a = make_log(checkpoint_every=4, export_dir=export)
    b = make_log(checkpoint_every=4, export_dir=export)
    for i in range(10):
        (a if i % 2 else b).append("model_call", f"writer-{i % 2}", {"i": i})
    assert [r.seq for r in a.search()] == list(range(1, 11))
    assert [cp.tree_size for cp in a.stored_checkpoints()] == [4, 8]
    assert a.verify().ok and b.verify().ok
