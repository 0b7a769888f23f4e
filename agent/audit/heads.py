"""The audit log as the registry of every other database's heads (agent/vault/heads.py).

Each open, close, rekey and recovery of a site database is a ``database`` record, so
the log's signed checkpoints (and the witness that holds them) cover the generations
and digests: a database put back from an older copy is refused even by someone who can
also restore the head files beside it. Payload: ``{"database", "event", "generation",
"digest", ...}`` plus, for a recovery, the reason, who and what was found.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from agent.audit.log import AuditLog
from agent.vault.heads import Head, HeadEvent

ACTOR = "plantagent"
EVENTS: frozenset[str] = frozenset({"open", "close", "rekey", "recover"})


def head_payload(head: Head) -> dict[str, Any]:
    """The payload of the record of ``head``."""
    return {"database": head.name, "event": head.event, "generation": head.generation,
            "digest": head.digest, **dict(head.detail)}


def head_of(seq: int, payload: dict[str, Any]) -> Head | None:
    """The head a ``database`` record states, or None when the payload is not one."""
    name, event = payload.get("database"), payload.get("event")
    generation, digest = payload.get("generation"), payload.get("digest")
    if not (isinstance(name, str) and event in EVENTS and type(generation) is int
            and (digest is None or isinstance(digest, str))):
        return None
    kind: HeadEvent = event
    return Head(name, generation, digest, kind, where=f"audit record {seq}")


class AuditHeads:
    """A :class:`~agent.vault.heads.HeadRegistry` over the audit log."""

    def __init__(self, log: AuditLog) -> None:
        self.log = log

    def last(self, name: str) -> Head | None:
        """The newest ``database`` record of ``name`` (other processes' included)."""
        for seq, payload in self.log.database_records():
            head = head_of(seq, payload)
            if head is not None and head.name == name:
                return head
        return None

    def record(self, head: Head) -> None:
        """Append the record (durable when this returns; AuditWriteError otherwise)."""
        self.log.append("database", ACTOR, head_payload(head), tool=None)

    def names(self) -> Iterator[str]:
        """The databases the log holds heads of."""
        yield from sorted(self.all_last())

    def all_last(self) -> dict[str, Head]:
        """The newest head of every database the log names."""
        heads: dict[str, Head] = {}
        for seq, payload in self.log.database_records():
            head = head_of(seq, payload)
            if head is not None:
                heads.setdefault(head.name, head)
        return heads

