"""Qualification records vouched for by the audit log: a record file counts only when
the site's hash-chained, signed audit log holds its digest.

``plantagent models qualify`` saves the record and appends ``config_change`` (event
``model_qualified``: model, file sha256, record digest, verdict); the policy gate
(``require_qualified``) recomputes the digest of the record file and refuses a record the
log does not hold, so a hand-written or edited JSON file never qualifies a model.
"""

from __future__ import annotations

from agent.audit.log import AuditLog
from agent.audit.reader import AuditReader
from agent.audit.records import canonical_json
from agent.errors import ModelError
from agent.qualification.record import QualificationRecord
from agent.vault import crypto

EVENT = "model_qualified"


def record_digest(record: QualificationRecord) -> str:
    """SHA-256 of the record (canonical JSON)."""
    return crypto.sha256_hex(canonical_json(record.model_dump(mode="json")))


def attest(audit: AuditLog, record: QualificationRecord, *, actor: str) -> None:
    """Record ``record`` in the audit log (fail closed: raises when it cannot)."""
    audit.append("config_change", actor, {
        "event": EVENT, "model": record.model, "sha256": record.sha256,
        "digest": record_digest(record), "qualified": record.qualified,
        "started": record.started,
    }, tool="models qualify")


def check_attested(audit: AuditReader, record: QualificationRecord, fix: str) -> None:
    """ModelError unless the newest audit record of the model file holds this record's
    digest."""
    held = [r for r in audit.search(kind="config_change", text=record.sha256)
            if r.payload.get("event") == EVENT and r.payload.get("sha256") == record.sha256]
    if not held or held[-1].payload.get("digest") != record_digest(record):
        raise ModelError(
            f"the qualification record of {record.model} is not the one the audit log "
            "holds (written or edited by hand, or copied from another site)", fix=fix)
