"""Shift handover: a grounded, cited summary of what happened during a shift and what is
still open. See README.md."""

from agent.handover.build import build_handover
from agent.handover.models import (
    HandoverEvidence,
    HandoverLine,
    HandoverReport,
    UnsupportedText,
)

__all__ = [
    "HandoverEvidence",
    "HandoverLine",
    "HandoverReport",
    "UnsupportedText",
    "build_handover",
]
