"""Crash safety: a writer killed with SIGKILL at random moments loses no acknowledged record
and leaves a log that verifies."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agent.audit import AuditLog
from agent.audit.vault_keys import VaultSigner
from agent.vault.signing import Signer, SigningKeys

from .audit_helpers import connector

KILLS = 18
WRITER = Path(__file__).with_name("crash_writer.py")


def run_and_kill(args: list[str], delay: float, processes: int = 1) -> list[str]:
    """Start ``processes`` writers on one log, SIGKILL them all ``delay`` s after the
    first ack; return every acknowledged line."""
    procs = [
        subprocess.Popen(
            [sys.executable, str(WRITER), *args],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        for _ in range(processes)
    ]
    lines: list[str] = []
    first = threading.Event()

    def reader(proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.endswith("\n"):  # a line cut by the kill was not acknowledged
                lines.append(line)
            first.set()
        first.set()

    readers = [threading.Thread(target=reader, args=(p,)) for p in procs]
    for thread in readers:
        thread.start()
    first.wait(timeout=30)
    time.sleep(delay)
    for proc in procs:
        proc.send_signal(signal.SIGKILL)
    for proc in procs:
        proc.wait()
    for thread in readers:
        thread.join(timeout=10)
    return lines


@pytest.mark.slow
@pytest.mark.parametrize(("threads", "processes"), [(1, 1), (4, 2)],
                         ids=["one-writer", "group-commit-4-threads-2-processes"])
def test_sigkill_loses_no_acknowledged_record(
    tmp_path: Path, db_key: bytes, threads: int, processes: int
) -> None:
    keys = SigningKeys.generate()
    (tmp_path / "key").write_text(db_key.hex())
    (tmp_path / "seeds").write_text(keys.seeds().hex())
    db, export = tmp_path / "audit.db", tmp_path / "exported"
    args = [str(db), str(tmp_path / "key"), str(tmp_path / "seeds"), str(export), str(threads)]
    rng = random.Random(20260301 + threads)
    acked: dict[int, str] = {}
    kills = KILLS if processes == 1 else KILLS // 2
    for _ in range(kills):
        # Mostly mid-stream; sometimes right after the first append (near open/migrate).
        delay = rng.choice([0.0, rng.uniform(0.0, 0.05), rng.uniform(0.02, 0.3)])
        for line in run_and_kill(args, delay, processes):
            seq, hash_ = line.split()
            assert acked.setdefault(int(seq), hash_) == hash_, "one seq acknowledged twice"
    assert len(acked) > kills
    signer = VaultSigner(Signer(keys, "cd" * 16))
    with AuditLog.open(connector(db, db_key), signer, signer.verifier(), export_dir=export) as log:
        report = log.verify()
        assert report.ok, report.problems
        stored = {r.seq: r.hash for r in log.search()}
    assert report.checkpoints_verified > 0
    missing = {s: h for s, h in acked.items() if stored.get(s) != h}
    assert not missing, f"acknowledged records lost or changed: {sorted(missing)[:10]}"
