"""Benchmark: audit append throughput (durable, synchronous=FULL) vs verify throughput.

A real encrypted database (the vault's open_database, SQLite3 Multiple Ciphers,
ChaCha20-Poly1305 pages, WAL) and the real hybrid signer (Ed25519 + ML-DSA-65). Each
append is its own committed, fsynced transaction; a signed checkpoint is made every
``--checkpoint-every`` records. Verify re-reads every record, recomputes the chain and the
Merkle tree, and checks every checkpoint signature. Run:

    /work/venv/bin/python benchmarks/audit_bench.py [--records 2000] [--dir DIR]

It prints records/s of each side by side, their ratio, and the bundle export/verify rate.
``--dir`` chooses the file system (fsync cost depends on it; default: the system temp).
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import tempfile
import time
from pathlib import Path

import apsw

from agent.audit import AuditLog
from agent.audit.bundle import verify_bundle
from agent.audit.vault_keys import VaultSigner
from agent.vault import open_database
from agent.vault.signing import Signer, SigningKeys


def payload(i: int) -> dict[str, object]:
    """A tool-result-sized payload (about 600 bytes of JSON)."""
    return {
        "tool": "read_tags",
        "args": {"tags": [f"P-{100 + k}.FlowRate" for k in range(4)]},
        "result": [
            {
                "tag": f"P-{100 + k}.FlowRate",
                "value": 41.5 + k + i % 7,
                "unit": "m3/h",
                "quality": "Good",
                "source_ts": "2026-03-01T08:00:00.000000Z",
            }
            for k in range(4)
        ],
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


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--checkpoint-every", type=int, default=256)
    parser.add_argument("--dir", type=Path, default=None, help="where the database lives")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="audit-bench-", dir=args.dir))
    try:
        key = secrets.token_bytes(32)
        signer = VaultSigner(Signer(SigningKeys.generate(), "be" * 16))
        log = AuditLog.open(
            lambda: open_database(work / "audit.db", key, create=True, synchronous_full=True),
            signer,
            signer.verifier(),
            checkpoint_every=args.checkpoint_every,
            export_dir=work / "checkpoints",
        )
        n = args.records
        print(f"database in {work} ({n} records, checkpoint every {args.checkpoint_every})")
        start = time.perf_counter()
        for i in range(n):
            log.append(
                "tool_result",
                "agent",
                payload(i),
                role="shift_lead",
                tool="read_tags",
                equipment="P-101",
            )
            if (i + 1) % max(1, n // 4) == 0:
                print(f"  appended {i + 1}/{n}", flush=True)
        log.checkpoint()
        append_s = time.perf_counter() - start

        start = time.perf_counter()
        report = log.verify()
        verify_s = time.perf_counter() - start
        assert report.ok, report.problems

        bundle = work / "bundle.jsonl"
        start = time.perf_counter()
        log.export_bundle(bundle)
        export_s = time.perf_counter() - start
        start = time.perf_counter()
        bundle_report = verify_bundle(bundle, signer.verifier())
        bundle_s = time.perf_counter() - start
        assert bundle_report.ok, bundle_report.problems
        log.close()
        baseline = plain_commit_rate(work, min(n, 1000))

        rows = [
            ("append (fsync each)", n / append_s, append_s),
            ("verify (db)", n / verify_s, verify_s),
            ("export bundle", n / export_s, export_s),
            ("verify bundle", n / bundle_s, bundle_s),
        ]
        print(f"\n{'operation':<22}{'records/s':>12}{'seconds':>10}")
        for name, rate, seconds in rows:
            print(f"{name:<22}{rate:>12,.0f}{seconds:>10.3f}")
        print(f"{'(bare sqlite commit)':<22}{baseline:>12,.0f}")
        print(
            f"\nverify is {append_s / verify_s:.1f}x faster than append "
            f"({report.checkpoints_verified} checkpoint signatures checked; "
            f"{append_s / n * 1000:.2f} ms per durable append; append runs at "
            f"{n / append_s / baseline:.0%} of bare fsynced SQLite commits, the disk's limit)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
