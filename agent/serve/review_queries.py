"""The read-only queries of one connection: the approval requests (with what the caller
may do with each, and one request's detail), the alarm board or the shelve requests, the
triage reports and (for an audit-reading role) the audit log's pages, verification and
search; each answered with its message or ``error``.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from agent.alarms.desk import AlarmDesk
from agent.approvals.models import ApprovalRequest, ApprovalState
from agent.audit.store import SearchQuery
from agent.errors import PlantAgentError, ServiceError, UsageError
from agent.people.identity import person_of_account
from agent.policy.reviewers import READ, check_audit_reviewer
from agent.serve.act_signing import ActSigning
from agent.serve.client_messages import AlarmsQuery, ApprovalsQuery, AuditQuery, TriageQuery
from agent.serve.reads import audit_records, triage_lines
from agent.serve.service_messages import Alarms, Approvals, AuditView, Error, Triage
from agent.service.review import request_actions, signature_lines
from agent.service.review_evidence import proposal_evidence, proposal_what_if
from agent.service.review_models import AuditFilter

STATES: tuple[ApprovalState, ...] = ("pending", "approved", "denied", "expired", "executing",
                                      "executed", "failed")


class ReviewQueries(ActSigning):
    """The read-only queries of one connection, as its caller's role may make them."""

    async def approvals(self, query: ApprovalsQuery) -> None:
        """The requests asked for (read-only; any enrolled person may read them)."""
        approvals = self.service.sources.approvals
        try:
            if query.request is not None:
                found = [await asyncio.to_thread(approvals.get, query.request)]
            else:
                unknown = [s for s in query.states or () if s not in STATES]
                if unknown:
                    raise UsageError(f"unknown state(s): {', '.join(unknown)}",
                                     fix=f"use: {', '.join(STATES)}")
                states = {s for s in STATES if s in (query.states or ())} or None
                found = await asyncio.to_thread(approvals.requests, states)
            person = await asyncio.to_thread(person_of_account, self.people, self.account)
            actions = {r.id: sorted(request_actions(approvals, person.name, self.role, r))
                       for r in found}
            detail = None
            if query.request is not None and query.detail:
                detail = await asyncio.to_thread(self._detail, found[0])
        except PlantAgentError as exc:
            self._send(Error.of(query.id, exc))
            return
        self._send(Approvals(id=query.id, requests=[r.model_dump(mode="json") for r in found],
                             actions=actions, detail=detail))

    def _detail(self, request: ApprovalRequest) -> dict[str, Any]:
        """The question, evidence and verified signatures of ``request`` (a worker)."""
        question, evidence = proposal_evidence(self.service.sources.audit, request)
        return {"question": question, "evidence": [asdict(e) for e in evidence],
                "signatures": signature_lines(self.service.sources.approvals, request),
                "what_if": self._what_if(request)}

    def _what_if(self, request: ApprovalRequest) -> dict[str, Any] | None:
        """The request's what-if, as the in-process Approvals tab computes it (read-only:
        a prediction from the twin; the plant is not written), as JSON."""
        review = self.service.review
        if review is None:
            return None
        view = proposal_what_if(review.twin.assets, review.twin.historian, request,
                                review.clock())
        return {"change": view.change, "problem": view.problem,
                "result": view.result.model_dump(mode="json") if view.result else None}

    async def alarms(self, query: AlarmsQuery) -> None:
        """The alarm board or the shelve requests (read-only)."""
        actions: list[str] = []
        try:
            desk = await self._desk()
            if query.what == "board":
                rows = await desk.board()
                items = [{"state": r.state.model_dump(mode="json"), "priority": r.priority,
                          "rank": r.rank} for r in rows]
                actions = sorted(desk.allowed(self.role))
            else:
                states = None if query.all else {"pending", "approved"}
                found = await desk.shelving.requests(states)  # type: ignore[arg-type]
                items = [r.model_dump(mode="json") for r in found]
        except PlantAgentError as exc:
            self._send(Error.of(query.id, exc))
            return
        self._send(Alarms(id=query.id, items=items, actions=actions))

    async def triage(self, query: TriageQuery) -> None:
        """The triage reports, newest first, or one with its Markdown (read-only; any
        enrolled person may read them, as in the terminal UI)."""
        review = self.service.review
        markdown: str | None = None
        try:
            if review is None:
                raise ServiceError("this service has no triage reports",
                                   fix="restart the service")
            if query.report is not None:
                report, markdown = await review.triage_report(query.report)
                found = [report]
            else:
                found = await review.triage_reports(query.limit)
        except PlantAgentError as exc:
            self._send(Error.of(query.id, exc))
            return
        lines = (triage_lines(found, review.site_time)
                 if review is not None and query.report is None else [])
        self._send(Triage(id=query.id, reports=[r.model_dump(mode="json") for r in found],
                          markdown=markdown, lines=lines))

    async def audit(self, query: AuditQuery) -> None:
        """A page of the audit log or its verification, for an audit-reading role of the
        caller's person (read again from the register)."""
        review = self.service.review
        try:
            await self._reviewer(READ)
            if review is None:
                raise ServiceError("this service has no audit review", fix="restart the service")
            if query.verify:
                self._send(AuditView(id=query.id, verify=asdict(await review.verify())))
                return
            if query.search:
                found = await asyncio.to_thread(audit_records, self.service.sources.audit,
                                                audit_search_query(query))
                self._send(AuditView(id=query.id, records=[r.model_dump(mode="json")
                                                           for r in found]))
                return
            filters = AuditFilter(kind=query.kind, actor=query.actor, text=query.text,
                                  since=query.since, until=query.until)
            page = await review.audit_page(filters, older_than=query.older_than,
                                           newer_than=query.newer_than, size=query.size)
        except PlantAgentError as exc:
            self._send(Error.of(query.id, exc))
            return
        self._send(AuditView(id=query.id, has_older=page.has_older, has_newer=page.has_newer,
                             records=[r.model_dump(mode="json") for r in page.records]))

    async def _desk(self) -> AlarmDesk:
        if self.service.review is None:
            raise ServiceError("this service has no alarm desk", fix="restart the service")
        return await self.service.review.desk()

    async def _reviewer(self, doing: str) -> None:
        """PolicyDenied unless the connection's role is one of the policy's audit
        reviewer roles and the caller's person (read again from the register) holds it."""
        person = await asyncio.to_thread(person_of_account, self.people, self.account)
        check_audit_reviewer(self.service.sources.approvals.policy, person.name, self.role,
                             doing=doing, holds=self.role in person.roles)


def audit_search_query(query: AuditQuery) -> SearchQuery:
    """The log's query for an ``audit {search}`` message (at most ``size`` records)."""
    return SearchQuery(since=query.since, until=query.until, actor=query.actor,
                       kind=query.kind, tool=query.tool, equipment=query.equipment,
                       text=query.text, seq_from=query.seq_from, seq_to=query.seq_to,
                       limit=query.size, newest_first=query.newest_first)
