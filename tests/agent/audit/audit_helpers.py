"""Helpers of the audit tests (a unique module name: tests/ has no packages)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import apsw

from agent.audit import AuditLog
from agent.vault import open_database

MakeLog = Callable[..., AuditLog]


class StepClock:
    """A clock that advances one second per call, from a fixed start."""

    def __init__(self, start: datetime = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def connector(path: Path, key: bytes) -> Callable[[], apsw.Connection]:
    """A factory of encrypted connections to ``path`` (as the vault opens them)."""
    return lambda: open_database(path, key, create=True, synchronous_full=True)


def fill(log: AuditLog, n: int) -> None:
    """Append ``n`` varied records."""
    kinds = ["question", "model_call", "tool_call", "tool_result", "answer"]
    for i in range(n):
        kind = kinds[i % len(kinds)]
        log.append(
            kind,
            "alice" if i % 3 else "agent",
            {"i": i, "text": f"step {i} – ünïcode", "values": [1.5, i, None, True]},
            role="shift_lead",
            tool="read_tags" if kind.startswith("tool") else None,
            equipment="P-101" if i % 2 else None,
        )
