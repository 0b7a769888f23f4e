"""Approvals of plant writes: requests, the human approval workflow, the gated executor.

See README.md in this directory.
"""

from __future__ import annotations

from agent.approvals.models import ApprovalRequest, ApprovalState, WriteTarget
from agent.approvals.refusals import ApprovalRefused
from agent.approvals.service import ApprovalService, target_of
from agent.approvals.store import ApprovalStore

__all__ = [
    "ApprovalRefused",
    "ApprovalRequest",
    "ApprovalService",
    "ApprovalState",
    "ApprovalStore",
    "WriteTarget",
    "target_of",
]
