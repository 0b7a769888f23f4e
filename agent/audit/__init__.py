"""The audit log: every question, model call, tool call, decision and answer, recorded
durably in a hash chain with signed Merkle checkpoints. See README.md.
"""

from __future__ import annotations

from agent.audit.checkpoints import Checkpoint, read_checkpoint_file
from agent.audit.errors import AuditUsageError, AuditWriteError
from agent.audit.log import AuditLog
from agent.audit.records import AUDIT_KINDS, AuditKind, AuditRecord, canonical_json
from agent.audit.signing import CheckpointSigner, CheckpointVerifier
from agent.audit.sink import AuditSink, MemoryAuditSink, audited
from agent.audit.store import SearchQuery
from agent.audit.verify import Problem, VerifyReport

__all__ = [
    "AUDIT_KINDS",
    "AuditKind",
    "AuditLog",
    "AuditRecord",
    "AuditSink",
    "AuditUsageError",
    "AuditWriteError",
    "Checkpoint",
    "CheckpointSigner",
    "CheckpointVerifier",
    "MemoryAuditSink",
    "Problem",
    "SearchQuery",
    "VerifyReport",
    "audited",
    "canonical_json",
    "read_checkpoint_file",
]
