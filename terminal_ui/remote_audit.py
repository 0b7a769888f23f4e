"""The Audit tab over the site service (`plantagent serve`), read-only: pages of the audit
log and its verification, read by the service for a connection in the auditor role (the
service checks the role; the log holds every person's questions and acts). A review note
is signed in the single-user mode, where the auditor's own key signs it in process."""

from __future__ import annotations

from agent.audit.records import AuditRecord
from agent.errors import UsageError
from agent.service.review_models import AUDIT_PAGE_SIZE, AuditFilter, AuditPage, VerifyStatus
from agent.site_time import SiteTime
from terminal_ui.remote_alarms import ServiceConnection

#: Why ``n`` (a signed review note) is not offered over the service.
NOTES_ELSEWHERE = "review notes are signed in the single-user mode (plantagent tui --no-service)"


class RemoteAudit:
    """What the Audit pane asks of the site service: pages and the verification."""

    def __init__(self, service: ServiceConnection) -> None:
        self._service = service

    @property
    def site_time(self) -> SiteTime:
        """Times in UTC (the site's zone is the service's setting)."""
        return SiteTime()

    async def audit_page(self, filters: AuditFilter, *, older_than: int | None = None,
                         newer_than: int | None = None,
                         size: int = AUDIT_PAGE_SIZE) -> AuditPage:
        """One page of matching records, newest first (ServiceError from the service
        when the connection's role may not read the log)."""
        client = await self._service.connected()
        view = await client.audit(kind=filters.kind, actor=filters.actor, text=filters.text,
                                  since=filters.since, until=filters.until,
                                  older_than=older_than, newer_than=newer_than, size=size)
        return AuditPage([AuditRecord.model_validate(r) for r in view.records], filters,
                         has_older=view.has_older, has_newer=view.has_newer)

    async def verify(self) -> VerifyStatus:
        """The chain, the Merkle tree and every signature, verified by the service."""
        client = await self._service.connected()
        view = await client.audit(verify=True)
        return VerifyStatus(**(view.verify or {}))

    async def add_review_note(self, first: int, last: int, verdict: str,
                              note: str) -> AuditRecord:
        """Not over the service (read-only): a clear error naming where."""
        raise UsageError(NOTES_ELSEWHERE, fix="start the UI with --no-service to sign a "
                         "review note with your own key")
