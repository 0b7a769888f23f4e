"""ReviewService: what the alarms, approvals, audit and handover panes ask of the agent.

Everything here is async and never blocks the event loop: SQLite work (reports, approvals,
audit) runs in a thread, OPC UA work is async already. Approvals and review notes act as
the configured person (``settings.agent.user`` / ``settings.agent.role``); the policy,
not this class, decides whether that role may approve — a refusal comes back as
:class:`~agent.approvals.refusals.ApprovalRefused` (a PlantAgentError) for the UI to show.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from agent.alarms.desk import AlarmDesk, AlarmRow
from agent.alarms.requests import ShelveRequest
from agent.approvals.authority import check_statement
from agent.approvals.executor import ApprovedWriteExecutor, WriteOutcome
from agent.approvals.models import ApprovalRequest, ApprovalState
from agent.approvals.refusals import approval_problem
from agent.approvals.service import ApprovalService
from agent.audit.records import AuditRecord
from agent.audit.store import SearchQuery
from agent.errors import PlantAgentError, UsageError
from agent.handover import build_handover
from agent.handover.models import HandoverReport
from agent.handover.sources import ShiftSources
from agent.people.identity import Acting
from agent.policy.reviewers import SIGN_NOTES, check_audit_reviewer
from agent.runtime import TwinStores
from agent.service.review_evidence import proposal_evidence, proposal_what_if
from agent.service.review_models import (
    AUDIT_PAGE_SIZE,
    AuditFilter,
    AuditPage,
    ProposalDetail,
    VerifyStatus,
)
from agent.service.review_notes import check_review_note, record_review_note
from agent.service.views import AlarmView
from agent.settings import Settings
from agent.site_time import SiteTime
from agent.triage.models import TriageReport
from agent.triage.render import markdown
from tools.context import utcnow
from tools.opcua.alarm_actions import AlarmActionResult
from tools.opcua.alarms import active_alarms
from tools.opcua.models import AlarmInfo

#: States the approvals pane lists: waiting for a decision or for the write.
OPEN_STATES: frozenset[ApprovalState] = frozenset({"pending", "approved"})


@dataclass
class ReviewService:
    """Alarms and triage reports, approvals, the audit trail and the shift handover of one
    site, for the terminal UI. ``sources`` holds the site's parts (and, in its settings,
    the person acting); ``twin`` the asset model and historian the what-if reads."""

    sources: ShiftSources
    twin: TwinStores
    clock: Callable[[], datetime] = field(default=utcnow)
    #: Opens the alarm desk on first use (the runtime's ``alarm_desk``).
    alarm_desk: Callable[[], Awaitable[AlarmDesk]] | None = None
    #: The enrolled person of the OS account, key unlocked (the runtime's ``acting``):
    #: approvals are signed with it.
    acting: Callable[[], Acting] | None = None
    #: How times are shown; None: the site's (``[site]``) on ``clock``.
    shown_time: SiteTime | None = None
    #: (name, role) of the enrolled person ``acting`` signs as, for display; None on a
    #: site where nobody is enrolled (the settings' user and role are shown).
    shown_as: tuple[str, str] | None = None

    def _actor(self) -> Acting:
        if self.acting is None:
            raise UsageError("this session has no enrolled person to sign decisions",
                             fix="start the UI over the site (plantagent tui)")
        return self.acting()

    @property
    def site_time(self) -> SiteTime:
        """The site's clock: local times, the date where it is not today, ages."""
        if self.shown_time is not None:
            return self.shown_time
        return SiteTime.from_settings(self.settings, clock=self.clock)

    @property
    def settings(self) -> Settings:
        """The settings the service runs with."""
        return self.sources.settings

    @property
    def user(self) -> str:
        """Who approves, denies and reviews through this service."""
        return self.shown_as[0] if self.shown_as is not None else self.settings.agent.user

    @property
    def role(self) -> str:
        """That person's policy role."""
        return self.shown_as[1] if self.shown_as is not None else self.settings.agent.role

    # -- alarms and triage ------------------------------------------------------------

    async def active_alarms(self) -> list[AlarmInfo]:
        """Conditions the plant reports active now, most severe first (OpcUaError when
        the server cannot be reached)."""
        return await active_alarms(self.sources.connection, self.sources.catalog)

    async def triage_reports(self, limit: int = 50) -> list[TriageReport]:
        """The newest triage reports first (none when the site has no report store)."""
        if self.sources.reports is None:
            return []
        return await asyncio.to_thread(self.sources.reports.list, limit)

    async def triage_report(self, report_id: str) -> tuple[TriageReport, str]:
        """One report in full: (the report, its Markdown)."""
        if self.sources.reports is None:
            raise UsageError("this session has no triage report store",
                             fix="start the UI with the site's triage reports (plantagent tui)")
        report, _stored = await asyncio.to_thread(self.sources.reports.get, report_id)
        return report, markdown(report, self.site_time)

    # -- alarm work (the alarm desk: gate, audit, read back) ---------------------------

    async def desk(self) -> AlarmDesk:
        """The alarm desk of the site, opened on first use."""
        if self.alarm_desk is None:
            raise UsageError("this session has no alarm desk",
                             fix="start the UI over the site (plantagent tui)")
        return await self.alarm_desk()

    async def alarm_board(self) -> list[AlarmView]:
        """Every alarm the server holds (active, unacknowledged, shelved), most urgent
        first, as read now (OpcUaError when the server cannot be reached)."""
        return [alarm_view(row) for row in await (await self.desk()).board()]

    async def alarm_actions(self) -> set[str]:
        """The alarm actions the configured role may take or ask for (the policy's)."""
        return (await self.desk()).allowed(self.role)

    async def acknowledge_alarm(self, condition_id: str, *, event_id: str | None,
                                comment: str = "") -> AlarmActionResult:
        """Acknowledge as the configured person (PolicyDenied when the role may not)."""
        return await (await self.desk()).acknowledge(actor=self.user, role=self.role,
                                           condition=condition_id, event_id=event_id,
                                           comment=comment)

    async def confirm_alarm(self, condition_id: str, *, event_id: str | None,
                            comment: str = "") -> AlarmActionResult:
        """Confirm an acknowledged alarm as the configured person."""
        return await (await self.desk()).confirm(actor=self.user, role=self.role,
                                       condition=condition_id, event_id=event_id,
                                       comment=comment)

    async def comment_alarm(self, condition_id: str, comment: str, *,
                            event_id: str | None) -> AlarmActionResult:
        """Add a comment as the configured person."""
        return await (await self.desk()).comment(actor=self.user, role=self.role,
                                       condition=condition_id, comment=comment,
                                       event_id=event_id)

    async def shelve_alarm(self, condition_id: str, *, minutes: float | None,
                           reason: str) -> ShelveRequest:
        """Ask for a shelve (timed, or one-shot with ``minutes`` None): a request that
        waits for an approver unless the policy asks for none."""
        return await (await self.desk()).shelve(actor=self.user, role=self.role,
                                      condition=condition_id, minutes=minutes, reason=reason)

    async def unshelve_alarm(self, condition_id: str, reason: str) -> ShelveRequest:
        """Ask for an unshelve."""
        return await (await self.desk()).unshelve(actor=self.user, role=self.role,
                                        condition=condition_id, reason=reason)

    # -- approvals ----------------------------------------------------------------------

    async def open_requests(self) -> list[ApprovalRequest]:
        """Requests waiting for a decision or for the write, newest first."""
        return await asyncio.to_thread(self.sources.approvals.requests, set(OPEN_STATES))

    async def proposal(self, request_id: str) -> ProposalDetail:
        """A request with the question that led to it, its evidence and its what-if."""
        request = await asyncio.to_thread(self.sources.approvals.get, request_id)
        question, evidence = await asyncio.to_thread(
            proposal_evidence, self.sources.audit, request)
        what_if = await asyncio.to_thread(
            proposal_what_if, self.twin.assets, self.twin.historian, request, self.clock())
        signatures = await asyncio.to_thread(self._signatures, request)
        return ProposalDetail(request, question, evidence, what_if, signatures)

    def _signatures(self, request: ApprovalRequest) -> list[str]:
        """Each signed decision on ``request``, its signature verified now."""
        return signature_lines(self.sources.approvals, request)

    def request_actions(self, request: ApprovalRequest) -> set[str]:
        """What the configured person may do with ``request`` now, as the policy and the
        approval service decide it ("approve", "deny", "execute"): the UI offers only
        these."""
        return request_actions(self.sources.approvals, self.user, self.role, request)

    async def approve(self, request_id: str) -> ApprovalRequest:
        """Approve as the configured person; ApprovalRefused says why the policy refuses."""
        actor = await asyncio.to_thread(self._actor)
        return await asyncio.to_thread(self.sources.approvals.approve, request_id, actor)

    async def deny(self, request_id: str, note: str) -> ApprovalRequest:
        """Deny as the configured person, with the note recorded in the audit log."""
        actor = await asyncio.to_thread(self._actor)
        return await asyncio.to_thread(
            self.sources.approvals.deny, request_id, actor, note=note.strip())

    async def execute(self, request_id: str) -> WriteOutcome:
        """Write an approved request to the plant (checked again, read back, audited)."""
        executor = ApprovedWriteExecutor(self.sources.approvals, self.sources.connection)
        return await executor.execute(request_id, await asyncio.to_thread(self._actor))

    # -- audit ----------------------------------------------------------------------------

    async def audit_page(
        self, filters: AuditFilter, *, older_than: int | None = None,
        newer_than: int | None = None, size: int = AUDIT_PAGE_SIZE,
    ) -> AuditPage:
        """One page of matching records, newest first: the newest page, the page of
        records older than seq ``older_than``, or the one newer than ``newer_than``."""
        return await asyncio.to_thread(self._page, filters, older_than, newer_than, size)

    def _page(
        self, filters: AuditFilter, older_than: int | None, newer_than: int | None, size: int
    ) -> AuditPage:
        if size < 1:
            raise UsageError("an audit page holds at least one record", fix="ask for size >= 1")
        base = SearchQuery(kind=filters.kind or None, actor=filters.actor or None,
                           text=filters.text or None, since=filters.since, until=filters.until)
        audit = self.sources.audit
        if newer_than is not None:
            # Oldest first from just above the mark, then turned round: the page that
            # directly precedes the one being looked at.
            rows = audit.search(_with(base, seq_from=newer_than + 1, limit=size + 1))
            records = list(reversed(rows[:size]))
            has_newer = len(rows) > size
            has_older = bool(records) and bool(audit.search(
                _with(base, seq_to=records[-1].seq - 1, limit=1)))
            return AuditPage(records, filters, has_older=has_older, has_newer=has_newer)
        upper = None if older_than is None else older_than - 1
        rows = audit.search(_with(base, seq_to=upper, limit=size + 1, newest_first=True))
        records = rows[:size]
        has_newer = older_than is not None and bool(records) and bool(audit.search(
            _with(base, seq_from=records[0].seq + 1, limit=1)))
        return AuditPage(records, filters, has_older=len(rows) > size, has_newer=has_newer)

    async def verify(self) -> VerifyStatus:
        """Verify the chain, the Merkle tree and every signature of the audit log."""
        report = await asyncio.to_thread(self.sources.audit.verify)
        first = report.problems[0].message if report.problems else None
        return VerifyStatus(ok=report.ok, records=report.records_verified,
                            checkpoints=report.checkpoints_verified, problem=first,
                            first_bad_seq=report.first_bad_seq)

    async def add_review_note(
        self, first: int, last: int, verdict: str, note: str
    ) -> AuditRecord:
        """Append a signed review note on records ``first``..``last`` as the configured
        person (UsageError names a bad range, verdict or an empty note)."""
        check_review_note(verdict, note)
        return await asyncio.to_thread(self._review_note, first, last, verdict, note)

    def _review_note(self, first: int, last: int, verdict: str, note: str) -> AuditRecord:
        """The note signed by the enrolled reviewer (their key), besides the site's."""
        actor = self._actor()
        check_audit_reviewer(self.sources.approvals.policy, actor.name, actor.role,
                             doing=SIGN_NOTES)
        return record_review_note(self.sources.audit, actor, first, last, verdict, note,
                                  now=self.clock())

    # -- handover -----------------------------------------------------------------------

    async def handover(
        self, since: timedelta | None, *, use_model: bool = True, now: datetime | None = None,
        on_progress: Callable[[str], None] | None = None,
    ) -> HandoverReport:
        """The grounded summary of the site's shift (``since`` None) or of the last
        ``since``, up to now (or ``now``); ``on_progress`` hears each step (on the event
        loop's thread)."""
        return await build_handover(self.sources, since=since, use_model=use_model, now=now,
                                    on_progress=on_progress)


def signature_lines(approvals: ApprovalService, request: ApprovalRequest) -> list[str]:
    """Each signed decision on ``request``, its signature verified now."""
    people = approvals.people
    out = []
    for decision in request.approvals:
        done = {"approve": "approved", "deny": "denied", "cancel": "cancelled",
                "execute": "executed"}[decision.verb]
        line = f"{decision.person} ({decision.role}) {done} at {decision.at:%H:%M} UTC"
        if people is None:
            out.append(f"{line}: signature not checked (no register)")
            continue
        try:
            check_statement(people, request, decision.verb, decision.signed)
            out.append(f"{line}: signature verified")
        except PlantAgentError as exc:
            out.append(f"{line}: signature NOT valid ({exc.message})")
    return out


def request_actions(approvals: ApprovalService, user: str, role: str,
                    request: ApprovalRequest) -> set[str]:
    """What ``user`` in ``role`` may do with ``request`` now, as the policy and the
    approval service decide it ("approve", "deny", "execute"): the UI offers only
    these."""
    allowed: set[str] = set()
    if request.state == "pending" and approval_problem(
            approvals.policy, request, user, role) is None:
        allowed.add("approve")
    if request.state in ("pending", "approved") and (
            role in request.approver_roles or user == request.requested_by):
        allowed.add("deny")
    spec = approvals.policy.roles.get(role)
    if request.state == "approved" and spec is not None and spec.human:
        allowed.add("execute")
    return allowed


def alarm_view(row: AlarmRow) -> AlarmView:
    """The screen's record of one alarm of the board."""
    s = row.state
    return AlarmView(
        condition_id=s.condition_id, name=s.name, source=s.source, priority=row.priority,
        rank=row.rank, severity=s.severity, status=row.status,
        active=s.active, acked=s.acked, shelving=s.shelving, unshelve_in_s=s.unshelve_in_s,
        left=row.left, since=s.active_since or s.time, message=s.message, comment=s.comment,
        event_id=s.event_id)


def _with(base: SearchQuery, **changes: Any) -> SearchQuery:
    """``base`` with some fields replaced (SearchQuery is frozen)."""
    return replace(base, **changes)
