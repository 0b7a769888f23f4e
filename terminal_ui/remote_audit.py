"""The Audit tab over the site service (`plantagent serve`), read-only: pages of the audit
log and its verification, read by the service for a connection in the auditor role (the
service checks the role; the log holds every person's questions and acts). A review note
is prepared by the service, signed here with the auditor's own key, checked and recorded
by the service."""

from __future__ import annotations

from agent.audit.records import AuditRecord
from agent.serve.client_connection import Signer
from agent.serve.site_clock import site_time
from agent.service.review_models import AUDIT_PAGE_SIZE, AuditFilter, AuditPage, VerifyStatus
from agent.site_time import SiteTime
from terminal_ui.remote_alarms import ServiceConnection


class RemoteAudit:
    """What the Audit pane asks of the site service: pages, the verification and signed
    review notes (``sign``: the auditor's own key, in this process)."""

    def __init__(self, service: ServiceConnection, sign: Signer) -> None:
        self._service = service
        self._sign_note = sign

    @property
    def site_time(self) -> SiteTime:
        """The site's time, as the service's welcome describes it."""
        welcome = self._service.welcome
        return site_time(welcome.site_clock if welcome is not None else None)

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
        """A review note on records ``first``..``last``: the service prepares it, it is
        signed here with the auditor's own key, the service checks and records it
        (ServiceError with the service's refusal and fix)."""
        client = await self._service.connected()
        record = await client.review(first, last, verdict, note, sign=self._sign_note)
        return AuditRecord.model_validate(record)
