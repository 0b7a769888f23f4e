"""Helpers of the alarm desk tests: settings of a test site, audit records of a tool."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.audit.log import AuditLog
from agent.settings import Settings, load_settings

LEAD, ENGINEER = "sam", "eve"


def site_settings(home: Path, endpoint: str, **overrides: Any) -> Settings:
    """Settings of a test site talking to ``endpoint`` as the shift lead."""
    return load_settings(home=home, opcua={"endpoint": endpoint, "timeout_s": 3.0},
                         agent={"user": LEAD, "role": "shift_lead"}, **overrides)


def records(audit: AuditLog, kind: str, tool: str) -> list[dict[str, Any]]:
    """Payloads of the audit records of ``kind`` for ``tool``, oldest first."""
    return [r.payload for r in audit.search(kind=kind, limit=10_000) if r.tool == tool]
