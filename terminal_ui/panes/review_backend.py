"""The review backend of each review pane: ``service.review`` (the in-process ReviewService
or the site service's ``terminal_ui.remote.RemoteReview``), or a clear error when it is
missing; one protocol per pane says what that pane needs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Protocol, runtime_checkable

from agent.alarms.requests import ShelveRequest
from agent.approvals.executor import WriteOutcome
from agent.approvals.models import ApprovalRequest
from agent.audit.records import AuditRecord
from agent.errors import UsageError
from agent.handover.models import HandoverReport
from agent.service.review_models import (
    AUDIT_PAGE_SIZE,
    AuditFilter,
    AuditPage,
    ProposalDetail,
    VerifyStatus,
)
from agent.service.views import AlarmView
from agent.site_time import SiteTime
from agent.triage.models import TriageReport
from terminal_ui.remote_handover import HandoverStanding
from tools.opcua.alarm_actions import AlarmActionResult


class ApprovalsReview(Protocol):
    """What the Approvals pane needs: the in-process ReviewService, or the site service's
    (terminal_ui.remote.RemoteApprovals)."""

    @property
    def user(self) -> str:
        """Who decides through this backend."""
        ...

    @property
    def role(self) -> str:
        """In which role."""
        ...

    @property
    def site_time(self) -> SiteTime:
        """How times are shown."""
        ...

    async def open_requests(self) -> list[ApprovalRequest]:
        """Requests waiting for a decision or for the write, newest first."""
        ...

    async def proposal(self, request_id: str) -> ProposalDetail:
        """A request with its question, evidence, what-if and signatures."""
        ...

    def request_actions(self, request: ApprovalRequest) -> set[str]:
        """What the person may do with ``request`` now."""
        ...

    async def approve(self, request_id: str) -> ApprovalRequest:
        """Approve, signed with the person's own key."""
        ...

    async def deny(self, request_id: str, note: str) -> ApprovalRequest:
        """Deny (or withdraw), signed."""
        ...

    async def execute(self, request_id: str) -> WriteOutcome:
        """Write an approved request to the plant, signed."""
        ...


class ApprovalsHost(Protocol):
    """A backend with an approvals review (the agent service, or the site service's)."""

    @property
    def review(self) -> ApprovalsReview | None:
        """The approvals backend, if any."""
        ...


def approvals_of(service: ApprovalsHost) -> ApprovalsReview:
    """``service.review`` for the Approvals pane; UsageError when missing."""
    if service.review is None:
        raise UsageError("this agent service has no review backend",
                         fix="open it with agent.service.open_service, which sets one")
    return service.review


def approvals_time_of(service: ApprovalsHost) -> SiteTime:
    """How the Approvals pane shows times."""
    return service.review.site_time if service.review is not None else SiteTime()


class AlarmsReview(Protocol):
    """What the Alarms pane needs: the in-process ReviewService, or the site service's
    (terminal_ui.remote_alarms.RemoteAlarms)."""

    @property
    def site_time(self) -> SiteTime:
        """How times are shown."""
        ...

    async def alarm_board(self) -> list[AlarmView]:
        """Every alarm the server holds, as read now."""
        ...

    async def alarm_actions(self) -> set[str]:
        """The alarm actions the person's role may take or ask for."""
        ...

    async def triage_reports(self, limit: int = 50) -> list[TriageReport]:
        """The newest triage reports first."""
        ...

    async def triage_report(self, report_id: str) -> tuple[TriageReport, str]:
        """One report in full: (the report, its Markdown)."""
        ...

    async def acknowledge_alarm(self, condition_id: str, *, event_id: str | None,
                                comment: str = "") -> AlarmActionResult:
        """Acknowledge as the person."""
        ...

    async def confirm_alarm(self, condition_id: str, *, event_id: str | None,
                            comment: str = "") -> AlarmActionResult:
        """Confirm an acknowledged alarm as the person."""
        ...

    async def comment_alarm(self, condition_id: str, comment: str, *,
                            event_id: str | None) -> AlarmActionResult:
        """Add a comment as the person."""
        ...

    async def shelve_alarm(self, condition_id: str, *, minutes: float | None,
                           reason: str) -> ShelveRequest:
        """Ask for a shelve (a request an approver may have to approve)."""
        ...

    async def unshelve_alarm(self, condition_id: str, reason: str) -> ShelveRequest:
        """Ask for an unshelve."""
        ...


class AlarmsHost(Protocol):
    """A backend with an alarms review (the agent service, or the site service's)."""

    @property
    def review(self) -> AlarmsReview | None:
        """The alarms backend, if any."""
        ...


def alarms_of(service: AlarmsHost) -> AlarmsReview:
    """``service.review`` for the Alarms pane; UsageError when missing."""
    if service.review is None:
        raise UsageError("this agent service has no review backend",
                         fix="open it with agent.service.open_service, which sets one")
    return service.review


def alarms_time_of(service: AlarmsHost) -> SiteTime:
    """How the Alarms pane shows times."""
    return service.review.site_time if service.review is not None else SiteTime()


class HandoverReview(Protocol):
    """What the Handover pane needs: the in-process ReviewService, or the site service's
    (terminal_ui.remote_handover.RemoteHandover)."""

    async def handover(self, since: timedelta | None, *, use_model: bool = True,
                       on_progress: Callable[[str], None] | None = None) -> HandoverReport:
        """Write the handover of the shift (``since`` None) or of the last ``since``."""
        ...


@runtime_checkable
class HandoverAcking(Protocol):
    """A handover backend where the person also acknowledges the newest handover, signed
    with their own key (the site service's)."""

    async def newest_handover(self) -> HandoverStanding:
        """The newest handover and who acknowledged it."""
        ...

    async def acknowledge_handover(self, seq: int, note: str) -> HandoverStanding:
        """Acknowledge handover ``seq``, signed; the standing after it."""
        ...


class HandoverHost(Protocol):
    """A backend with a handover review (the agent service, or the site service's)."""

    @property
    def review(self) -> HandoverReview | None:
        """The handover backend, if any."""
        ...


def handover_of(service: HandoverHost) -> HandoverReview:
    """``service.review`` for the Handover pane; UsageError when missing."""
    if service.review is None:
        raise UsageError("this agent service has no review backend",
                         fix="open it with agent.service.open_service, which sets one")
    return service.review


class AuditReview(Protocol):
    """What the Audit pane needs: the in-process ReviewService, or the site service's
    read-only one (terminal_ui.remote_audit.RemoteAudit)."""

    @property
    def site_time(self) -> SiteTime:
        """How times are shown."""
        ...

    async def audit_page(self, filters: AuditFilter, *, older_than: int | None = None,
                         newer_than: int | None = None,
                         size: int = AUDIT_PAGE_SIZE) -> AuditPage:
        """One page of matching records, newest first."""
        ...

    async def verify(self) -> VerifyStatus:
        """The audit log verified."""
        ...

    async def add_review_note(self, first: int, last: int, verdict: str,
                              note: str) -> AuditRecord:
        """A signed review note on records ``first``..``last``."""
        ...


class AuditHost(Protocol):
    """A backend with an audit review (the agent service, or the site service's)."""

    @property
    def review(self) -> AuditReview | None:
        """The audit backend, if any."""
        ...


def audit_of(service: AuditHost) -> AuditReview:
    """``service.review`` for the Audit pane; UsageError when missing."""
    if service.review is None:
        raise UsageError("this agent service has no review backend",
                         fix="open it with agent.service.open_service, which sets one")
    return service.review


def audit_time_of(service: AuditHost) -> SiteTime:
    """How the Audit pane shows times."""
    return service.review.site_time if service.review is not None else SiteTime()
