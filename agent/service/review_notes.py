"""An auditor's signed review note on a range of audit records: one function for the
terminal UI in process and the site service (where the auditor's own client signs)."""

from __future__ import annotations

from datetime import datetime

from agent.audit.log import AuditLog
from agent.audit.merkle import root_of
from agent.audit.records import AuditRecord
from agent.audit.review import VERDICTS
from agent.errors import UsageError
from agent.people.identity import Acting

#: The type of the reviewer's own signed statement of a note.
REVIEW_STATEMENT_TYPE = "plantagent/review/v1"


def check_review_note(verdict: str, note: str) -> str:
    """The note's text (stripped); UsageError for an unknown verdict or an empty note."""
    if verdict not in VERDICTS:
        raise UsageError(f"unknown verdict {verdict!r}", fix=f"use one of: "
                         f"{', '.join(VERDICTS)}")
    if not note.strip():
        raise UsageError("a review note needs text", fix="say what you checked or found")
    return note.strip()


def record_review_note(audit: AuditLog, actor: Acting, first: int, last: int, verdict: str,
                       note: str, *, now: datetime) -> AuditRecord:
    """The note on records ``first``..``last`` signed by ``actor``'s own key (their
    statement, kept in the record) besides the site's; the range and the verdict are
    checked before anyone is asked to sign. Blocking (run it in a worker thread)."""
    note = check_review_note(verdict, note)
    size = audit.size()
    if not 1 <= first <= last <= size:
        raise UsageError(f"records {first}-{last} are not in the log (it has {size})",
                         fix=f"give a range within 1-{size}")
    statement = {"type": REVIEW_STATEMENT_TYPE, "log_id": audit.log_id, "first": first,
                 "last": last, "verdict": verdict, "note": note,
                 "target_root": root_of(audit.record_hashes(first, last)).hex()}
    signed = actor.signer.sign(statement, now=now)
    return audit.review(actor.name, first, last, verdict, note, role=actor.role,
                        signed=signed.model_dump(mode="json"))
