"""Audit append throughput (durable, synchronous=FULL) vs verify throughput.

A real encrypted database (the vault's open_database, SQLite3 Multiple Ciphers, WAL) and
the real hybrid signer (Ed25519 + ML-DSA-65). Each append is its own committed, fsynced
transaction; a signed checkpoint is made every ``checkpoint_every`` records. Verify
re-reads every record, recomputes the chain and the Merkle tree, and checks every
checkpoint signature. Bare fsynced SQLite commits are the disk's limit, for scale.
"""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import apsw

from agent.audit import AuditLog
from agent.audit.bundle import verify_bundle
from agent.audit.vault_keys import VaultSigner
from agent.errors import IntegrityError
from agent.vault import open_database
from agent.vault.signing import Signer, SigningKeys
from harness.bench.result import BenchResult

Say = Callable[[str], None]


def payload(i: int) -> dict[str, object]:
    """A tool-result-sized payload (about 600 bytes of JSON)."""
    return {
        "tool": "read_tags",
        "args": {"tags": [f"P-{100 + k}.FlowRate" for k in range(4)]},
        "result": [{"tag": f"P-{100 + k}.FlowRate", "value": 41.5 + k + i % 7, "unit": "m3/h",
                    "quality": "Good", "source_ts": "2026-03-01T08:00:00.000000Z"}
                   for k in range(4)],
        "evidence_id": f"ev-{i:06d}",
    }


def plain_commit_rate(work: Path, n: int) -> float:
    """Baseline: bare SQLite commits (WAL, synchronous=FULL, no encryption, no hashing)."""
    conn = apsw.Connection(str(work / "plain.db"))
    for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"):
        list(conn.execute(pragma))
    list(conn.execute("CREATE TABLE t (x TEXT)"))
    text = json.dumps(payload(0))
    start = time.perf_counter()
    for _ in range(n):
        list(conn.execute("BEGIN IMMEDIATE"))
        list(conn.execute("INSERT INTO t VALUES (?)", (text,)))
        list(conn.execute("COMMIT"))
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


def run(records: int = 2000, checkpoint_every: int = 256, directory: Path | None = None,
        say: Say = lambda _: None) -> BenchResult:
    """Append ``records``, verify, export and verify the bundle; rates side by side."""
    result = BenchResult("audit", f"audit log: {records} durable appends vs verify "
                         f"(checkpoint every {checkpoint_every})",
                         params={"records": records, "checkpoint_every": checkpoint_every})
    work = Path(tempfile.mkdtemp(prefix="audit-bench-", dir=directory))
    try:
        signer = VaultSigner(Signer(SigningKeys.generate(), "be" * 16))
        key = secrets.token_bytes(32)
        log = AuditLog.open(
            lambda: open_database(work / "audit.db", key, create=True, synchronous_full=True),
            signer, signer.verifier(), checkpoint_every=checkpoint_every,
            export_dir=work / "checkpoints",
        )
        start = time.perf_counter()
        for i in range(records):
            log.append("tool_result", "agent", payload(i), role="shift_lead", tool="read_tags",
                       equipment="P-101")
            if (i + 1) % max(1, records // 4) == 0:
                say(f"appended {i + 1}/{records}")
        log.checkpoint()
        append_s = time.perf_counter() - start
        start = time.perf_counter()
        report = log.verify()
        verify_s = time.perf_counter() - start
        if not report.ok:
            raise IntegrityError(f"the benchmark's audit log failed to verify: {report.problems}")
        bundle = work / "bundle.jsonl"
        start = time.perf_counter()
        log.export_bundle(bundle)
        export_s = time.perf_counter() - start
        start = time.perf_counter()
        if not verify_bundle(bundle, signer.verifier()).ok:
            raise IntegrityError("the benchmark's audit bundle failed to verify")
        bundle_s = time.perf_counter() - start
        log.close()
        say("bare SQLite commits (baseline)")
        baseline = plain_commit_rate(work, min(records, 1000))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result.add("append (fsync each)", records / append_s, "records/s")
    result.add("verify (db)", records / verify_s, "records/s")
    result.add("export bundle", records / export_s, "records/s")
    result.add("verify bundle", records / bundle_s, "records/s")
    result.add("bare fsynced SQLite commit", baseline, "commits/s")
    result.ratio("verify / append (records/s)", append_s, verify_s,
                 f"{report.checkpoints_verified} checkpoint signatures checked")
    result.ratio("append / bare SQLite commit (records/s)", records / append_s, baseline,
                 "the disk's limit")
    return result
