"""The policy's refusal of unqualified models (``[qualification] require_qualified``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from agent.audit.reader import AuditReader
from agent.errors import ModelError
from agent.policy.models import QualificationPolicy
from agent.qualification.attest import check_attested
from agent.qualification.store import QualificationStore


def ensure_qualified(policy: QualificationPolicy, home: Path, name: str, sha256: str,
                     audit: Callable[[], AuditReader] | None = None) -> None:
    """Return when the policy does not require qualification or the model file ``sha256``
    has a passing record on this site (held by the site's audit log, when ``audit`` gives
    it); raise ModelError naming the fix otherwise."""
    if not policy.require_qualified:
        return
    fix = (f"run `plantagent models qualify {name}`, or choose a qualified model "
           "(model.name)")
    record = QualificationStore(home).for_sha(sha256) if sha256 else None
    if record is None:
        raise ModelError(
            f"the policy requires a qualified model and {name} (sha256 {sha256[:12] or '?'}) "
            "has never been qualified on this site", fix=fix)
    if not record.qualified:
        failed = ", ".join(f"{c.name} {c.value:g} ({c.kind} {c.limit:g})"
                           for c in record.failed_criteria()) or "an incomplete run"
        raise ModelError(
            f"the policy requires a qualified model and {name} is NOT qualified "
            f"(run of {record.started}: {failed})", fix=fix)
    if audit is not None:
        check_attested(audit(), record, fix)

