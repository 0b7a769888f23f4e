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


def run_and_kill(args: list[str], delay: float) -> list[str]:
    """Start the writer, SIGKILL it ``delay`` s after its first ack; return ack lines."""
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), *args],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    lines: list[str] = []
    first = threading.Event()

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.endswith("\n"):  # a line cut by the kill was not acknowledged
                lines.append(line)
            first.set()
        first.set()

    thread = threading.Thread(target=reader)
    thread.start()
    first.wait(timeout=30)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    thread.join(timeout=10)
    return lines


@pytest.mark.slow
def test_sigkill_loses_no_acknowledged_record(tmp_path: Path, db_key: bytes) -> None:
    keys = SigningKeys.generate()
    (tmp_path / "key").write_text(db_key.hex())
    (tmp_path / "seeds").write_text(keys.seeds().hex())
    db, export = tmp_path / "audit.db", tmp_path / "exported"
    args = [str(db), str(tmp_path / "key"), str(tmp_path / "seeds"), str(export)]
    rng = random.Random(20260301)
    acked: dict[int, str] = {}
    for _ in range(KILLS):
        # Mostly mid-stream; sometimes right after the first append (near open/migrate).
        delay = rng.choice([0.0, rng.uniform(0.0, 0.05), rng.uniform(0.02, 0.3)])
        for line in run_and_kill(args, delay):
            seq, hash_ = line.split()
            acked[int(seq)] = hash_
    assert len(acked) > KILLS
    signer = VaultSigner(Signer(keys, "cd" * 16))
    with AuditLog.open(connector(db, db_key), signer, signer.verifier(), export_dir=export) as log:
        report = log.verify()
        assert report.ok, report.problems
        stored = {r.seq: r.hash for r in log.search()}
    assert report.checkpoints_verified > 0
    missing = {s: h for s, h in acked.items() if stored.get(s) != h}
    assert not missing, f"acknowledged records lost or changed: {sorted(missing)[:10]}"
