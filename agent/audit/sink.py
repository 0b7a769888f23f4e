"""The interface the rest of the product appends through, and an in-memory double.

:class:`AuditSink` is what the agent loop and the approvals hold;
:class:`~agent.audit.log.AuditLog` satisfies it. :func:`audited` is the
fail-closed pattern for async code: the action runs only after its record is durable.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar, get_args

from agent.audit.errors import AuditWriteError
from agent.audit.records import AuditKind, AuditRecord, genesis_hash, seal_record

T = TypeVar("T")


class AuditSink(Protocol):
    """Appends one audit record durably, or raises AuditWriteError (fail closed)."""

    def append(
        self,
        kind: str,
        actor: str,
        payload: dict[str, Any],
        *,
        role: str | None = None,
        tool: str | None = None,
        equipment: str | None = None,
    ) -> AuditRecord:
        """Write one record before returning; the caller must not act if this raises."""
        ...


async def audited(
    sink: AuditSink,
    kind: str,
    actor: str,
    payload: dict[str, Any],
    act: Callable[[], Awaitable[T]],
    *,
    role: str | None = None,
    tool: str | None = None,
    equipment: str | None = None,
) -> T:
    """Append the record, then await ``act()``; if the append fails, ``act`` never runs.

    The append is synchronous (a few milliseconds of fsync) so that the order of records
    is the order of actions; use ``AuditLog.append_async`` where that blocking matters.
    """
    sink.append(kind, actor, payload, role=role, tool=tool, equipment=equipment)
    return await act()


class MemoryAuditSink:
    """A chained log in memory, for tests of code that audits; ``fail`` simulates a
    broken disk (every append raises AuditWriteError)."""

    def __init__(self, *, fail: bool = False) -> None:
        self.log_id = secrets.token_hex(16)
        self.records: list[AuditRecord] = []
        self.fail = fail

    def append(
        self,
        kind: str,
        actor: str,
        payload: dict[str, Any],
        *,
        role: str | None = None,
        tool: str | None = None,
        equipment: str | None = None,
    ) -> AuditRecord:
        """Append in memory with the same validation as the real log."""
        if self.fail:
            raise AuditWriteError("the audit log is not writable (simulated)")
        if kind not in get_args(AuditKind):
            raise AuditWriteError(f"unknown audit record kind {kind!r}")
        prev = self.records[-1].hash if self.records else genesis_hash(self.log_id)
        try:
            record = seal_record(
                seq=len(self.records) + 1,
                ts=datetime.now(UTC),
                kind=kind,
                actor=actor,
                role=role,
                tool=tool,
                equipment=equipment,
                payload=payload,
                prev_hash=prev,
            )
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise AuditWriteError(f"the audit record is invalid: {exc}") from exc
        self.records.append(record)
        return record

    def kinds(self) -> list[str]:
        """The kinds appended so far, in order."""
        return [r.kind for r in self.records]
