"""Signed acts over the socket: one connection's approvals, denials and executions of
plant writes and alarm shelves, and its alarm actions (acknowledge, confirm, comment, ask
to shelve), each signed where the in-process command signs, by the caller's own client
(agent.serve.signing), and checked by the same workflow, with the same rules, as the
in-process commands (agent.approvals, agent.alarms).

Who acts is the kernel's word (the connection's OS account -> the enrolled person, read
again from the register for every act, so a person disabled meanwhile is refused); the
role is the one the connection was welcomed in. The service holds no private key.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from dataclasses import asdict, replace
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from agent.alarms.desk import AlarmDesk
from agent.approvals.executor import ApprovedWriteExecutor, WriteOutcome
from agent.approvals.models import ApprovalRequest, ApprovalState
from agent.audit.records import format_ts
from agent.audit.store import SearchQuery
from agent.errors import PlantAgentError, PolicyDenied, ServiceError, UsageError
from agent.handover import HandoverReport, build_handover
from agent.handover.ack import (
    CANCELLED_EVENT,
    acknowledge,
    acknowledgements,
    find_handover,
)
from agent.people.identity import Acting, person_of_account
from agent.people.names import person_key
from agent.people.register import PeopleRegister
from agent.people.statements import SignedStatement
from agent.policy.reviewers import READ, SIGN_NOTES, check_audit_reviewer
from agent.serve.client_messages import (
    Act,
    AlarmAct,
    AlarmsQuery,
    ApprovalsQuery,
    AuditQuery,
    HandoverAct,
    ReviewAct,
    Signature,
    TriageQuery,
)
from agent.serve.queue import QUESTION, FairQueue
from agent.serve.reads import audit_records, triage_lines
from agent.serve.service_messages import (
    Alarms,
    Approvals,
    AuditView,
    Done,
    Error,
    Event,
    Queued,
    SignRequest,
    Triage,
)
from agent.serve.signing import NONCE_FIELD, SIGN_TIMEOUT_S, RemoteSigner
from agent.serve.stoppable import StoppableModel
from agent.service import AgentService
from agent.service.review import request_actions, signature_lines
from agent.service.review_evidence import proposal_evidence, proposal_what_if
from agent.service.review_models import AuditFilter
from agent.service.review_notes import check_review_note, record_review_note
from tools.context import utcnow

log = logging.getLogger(__name__)

#: An act that may need the caller's signature.
AnyAct = Act | AlarmAct | HandoverAct | ReviewAct

STATES: tuple[ApprovalState, ...] = ("pending", "approved", "denied", "expired", "executing",
                                      "executed", "failed")


class ConnectionActs:
    """The signed acts of one connection (``account`` in ``role``); ``send`` writes a
    message to it."""

    def __init__(self, service: AgentService, people: PeopleRegister, *, account: str,
                 role: str, send: Callable[[BaseModel], None], queue: FairQueue,
                 sign_timeout_s: float = SIGN_TIMEOUT_S) -> None:
        self.service = service
        self.sign_timeout_s = sign_timeout_s
        self.queue = queue
        self.people = people
        self.account = account
        self.role = role
        self._send = send
        self._loop = asyncio.get_running_loop()
        #: nonce -> the future its signature completes; a nonce is used once.
        self._waiting: dict[str, asyncio.Future[SignedStatement]] = {}
        self._closed = False

    # -- the read loop's side ---------------------------------------------------------

    def answer(self, message: Signature) -> None:
        """A client's ``signature``: completes the one waiting sign request of its nonce;
        one that was never asked, already answered or expired is refused."""
        future = self._waiting.pop(message.nonce, None)
        if future is None or future.done():
            self._send(Error(id=message.id, message="no signature is awaited with this nonce "
                             "(never asked, already used, or expired)",
                             fix="sign only what the service sends, once"))
            return
        if message.refused is not None or message.signed is None:
            future.set_exception(ServiceError(
                f"you did not sign: {message.refused or 'no signature'}",
                fix="give your own personal passphrase or key file and try again"))
            return
        try:
            future.set_result(SignedStatement.model_validate(message.signed))
        except ValueError:
            future.set_exception(ServiceError("the signature is not a signed statement",
                                              fix="use plantagent's own client"))

    def close(self) -> None:
        """The connection is gone: every act waiting for a signature fails (nothing of
        it is recorded)."""
        self._closed = True
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(ServiceError("the client went away before signing"))
        self._waiting.clear()

    # -- acts -------------------------------------------------------------------------

    async def act(self, act: Act) -> None:
        """Run ``act``; ``done`` or ``error`` with its id."""
        await self._reply(act.id, act.action, act.target, self._act(act))

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
            self._send(Error(id=query.id, message=exc.message, fix=exc.fix))
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

    async def alarm(self, act: AlarmAct) -> None:
        """Run an alarm act; ``done`` or ``error`` with its id."""
        await self._reply(act.id, act.action, act.condition or act.request or "",
                          self._alarm(act))

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
            self._send(Error(id=query.id, message=exc.message, fix=exc.fix))
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
            self._send(Error(id=query.id, message=exc.message, fix=exc.fix,
                             usage=isinstance(exc, UsageError)))
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
            self._send(Error(id=query.id, message=exc.message, fix=exc.fix))
            return
        self._send(AuditView(id=query.id, has_older=page.has_older, has_newer=page.has_newer,
                             records=[r.model_dump(mode="json") for r in page.records]))

    async def _desk(self) -> AlarmDesk:
        if self.service.review is None:
            raise ServiceError("this service has no alarm desk", fix="restart the service")
        return await self.service.review.desk()

    async def _alarm(self, act: AlarmAct) -> dict[str, Any]:
        desk = await self._desk()
        actor = await self._actor(act, act.as_name)
        name, role = actor.name, actor.role
        if act.action in ("approve", "deny"):
            if act.request is None:
                raise UsageError("which shelve request?", fix="give its id, e.g. SH-1a2b3c4d")
            await desk.shelving.get(act.request)  # an unknown request is named first
            if act.action == "deny":
                done = await desk.shelving.deny(act.request, actor, note=act.note)
            else:
                await desk.shelving.approve(act.request, actor)
                done = await desk.shelving.execute(act.request, actor)
            return {"request": done.model_dump(mode="json")}
        if act.condition is None:
            raise UsageError("which alarm?", fix="name its condition as `alarms list` shows it")
        if act.action == "shelve":
            asked = await desk.shelve(actor=name, role=role, condition=act.condition,
                                      minutes=act.minutes, reason=act.reason)
            return {"request": asked.model_dump(mode="json")}
        if act.action == "unshelve":
            asked = await desk.unshelve(actor=name, role=role, condition=act.condition,
                                        reason=act.reason)
            return {"request": asked.model_dump(mode="json")}
        result = await desk.act(act.action, actor=name, role=role, condition=act.condition,
                                event_id=act.event_id, comment=act.comment)
        return {"action": result.model_dump(mode="json")}

    async def _reply(self, mid: str, what: str, about: str,
                     work: Coroutine[Any, Any, dict[str, Any]]) -> None:
        try:
            result = await work
        except PlantAgentError as exc:
            self._send(Error(id=mid, message=exc.message, fix=exc.fix))
        except Exception as exc:  # a bug: the person hears of it instead of waiting
            log.exception("act %s (%s %s) failed", mid, what, about)
            self._send(Error(id=mid, message=f"internal error: {type(exc).__name__}: {exc}",
                             fix="this is a bug in plantagent: the service's log has the "
                             "traceback; report it"))
        else:
            self._send(Done(id=mid, result=result))

    async def handover(self, act: HandoverAct) -> None:
        """Write (its place in line and steps sent as it goes; a cancel drops it,
        audited), acknowledge (signed) or read the acknowledgements of a handover."""
        work = self._write(act) if act.action == "write" else self._handover(act)
        try:
            await self._reply(act.id, f"handover {act.action}", str(act.seq or "newest"),
                              work)
        except asyncio.CancelledError:  # a cancel, the client gone, the service stopping
            self._send(Error(id=act.id, message=f"handover {act.id}: cancelled; nothing "
                             "was recorded", cancelled=True))

    async def review(self, act: ReviewAct) -> None:
        """A review note on audit records, signed by the caller's own key (auditors)."""
        await self._reply(act.id, "review", f"{act.first}-{act.last}", self._review(act))

    async def _review(self, act: ReviewAct) -> dict[str, Any]:
        await self._reviewer(SIGN_NOTES)
        check_review_note(act.verdict, act.note)  # before anyone is asked to sign
        actor = await self._actor(act, act.as_name)  # still holds the role
        record = await asyncio.to_thread(record_review_note, self.service.sources.audit,
                                         actor, act.first, act.last, act.verdict, act.note,
                                         now=utcnow())
        return {"record": record.model_dump(mode="json")}

    async def _reviewer(self, doing: str) -> None:
        """PolicyDenied unless the connection's role is one of the policy's audit
        reviewer roles and the caller's person (read again from the register) holds it."""
        person = await asyncio.to_thread(person_of_account, self.people, self.account)
        check_audit_reviewer(self.service.sources.approvals.policy, person.name, self.role,
                             doing=doing, holds=self.role in person.roles)

    async def _write(self, act: HandoverAct) -> dict[str, Any]:
        """The handover written as the caller's, in line with the questions when the
        model writes it; its place in line and each step go to the client as a
        question's do; cancelled, it is audited as a question is (nothing else kept)."""
        person = await asyncio.to_thread(person_of_account, self.people, self.account)
        since = timedelta(seconds=act.since_s) if act.since_s is not None else None
        started = False
        # Cancelled while the model writes: its step stops at the next token.
        stop = threading.Event()
        sources = replace(self.service.sources,
                          model=StoppableModel(self.service.sources.model, stop))

        def step(text: str) -> None:
            self._send(Event(id=act.id, kind="status", text=text))

        def place(position: int) -> None:
            self._send(Queued(id=act.id, position=position))

        async def write() -> HandoverReport:
            nonlocal started
            started = True
            return await build_handover(sources, since=since, use_model=act.use_model,
                                        on_progress=step, author=(person.name, self.role))

        try:
            if not act.use_model:
                report = await write()
            else:  # the model is shared: in line with the questions
                async with self.queue.turn(person.name, kind="handover", priority=QUESTION,
                                           label=act.id, on_position=place):
                    report = await write()
        except asyncio.CancelledError:
            stop.set()
            await asyncio.to_thread(
                self.service.sources.audit.append, "handover", person.name,
                {"event": CANCELLED_EVENT, "act": act.id, "use_model": act.use_model,
                 "note": "cancelled while being written" if started
                 else "cancelled while waiting for the model"}, role=self.role)
            raise
        return {"report": report.model_dump(mode="json")}

    async def _handover(self, act: HandoverAct) -> dict[str, Any]:
        audit = self.service.sources.audit
        handover = await asyncio.to_thread(find_handover, audit, act.seq)
        written = {"seq": handover.seq, "actor": handover.actor,
                   "ts": handover.ts.isoformat()}
        if act.action == "acks":
            done = await asyncio.to_thread(acknowledgements, audit, self.people, handover)
            return {"handover": written, "acknowledgements": [
                {**vars(a), "signed_at": a.signed_at.isoformat()} for a in done]}
        actor = await self._actor(act, act.as_name)
        record = await asyncio.to_thread(acknowledge, audit, self.people, actor, handover,
                                         act.note)
        return {"handover": written, "person": actor.name, "role": actor.role,
                "record": record.seq}

    async def _actor(self, act: AnyAct, as_name: str | None) -> Acting:
        """The caller's person, read again from the register, in the connection's role,
        signing through their own client."""
        person = await asyncio.to_thread(person_of_account, self.people, self.account)
        if as_name is not None and person_key(as_name) != person.key:
            raise PolicyDenied(
                f"you are logged in as {self.account!r}, enrolled as {person.name}; you can "
                f"not act as {as_name!r}", fix=f"{as_name} acts from their own OS account")
        if self.role not in person.roles:
            raise PolicyDenied(f"{person.name} no longer holds the role {self.role}",
                               fix="connect again (plantagent chooses among your roles)")
        return Acting(RemoteSigner(person, lambda prepared: self._challenge(act, prepared)),
                      self.role)

    async def _act(self, act: Act) -> dict[str, Any]:
        approvals = self.service.sources.approvals
        actor = await self._actor(act, act.as_name)
        write: WriteOutcome | None = None
        if act.action == "approve":
            approved = await asyncio.to_thread(approvals.approve, act.target, actor)
            if act.execute and approved.state == "approved":  # the plant only now
                write = await self._execute(approved.id, actor)
        elif act.action == "deny":
            await asyncio.to_thread(approvals.deny, act.target, actor, note=act.note)
        else:
            write = await self._execute(act.target, actor)
        request: ApprovalRequest = await asyncio.to_thread(approvals.get, act.target)
        return {"request": request.model_dump(mode="json"),
                "write": write.model_dump(mode="json") if write is not None else None}

    async def _execute(self, request_id: str, actor: Acting) -> WriteOutcome:
        executor = ApprovedWriteExecutor(self.service.sources.approvals,
                                         self.service.sources.connection)
        return await executor.execute(request_id, actor)

    # -- signing ----------------------------------------------------------------------

    def _challenge(self, act: AnyAct, prepared: dict[str, Any]) -> SignedStatement:
        """From a worker thread: the client's signature of ``prepared`` (blocks)."""
        future = asyncio.run_coroutine_threadsafe(self._ask(act, prepared), self._loop)
        try:
            return future.result(self.sign_timeout_s + 30)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ServiceError("no signature came back", fix="try again") from None

    async def _ask(self, act: AnyAct, prepared: dict[str, Any]) -> SignedStatement:
        if self._closed:  # a worker that got here after the connection closed
            raise ServiceError("the client went away before signing")
        person = await asyncio.to_thread(self.people.get, str(prepared["person"]))
        if self._closed:
            raise ServiceError("the client went away before signing")
        nonce = str(prepared[NONCE_FIELD])
        future: asyncio.Future[SignedStatement] = self._loop.create_future()
        self._waiting[nonce] = future
        expires = utcnow() + timedelta(seconds=self.sign_timeout_s)
        self._send(SignRequest(id=act.id, nonce=nonce, statement=prepared,
                               key=person.current_key.model_dump(mode="json"),
                               sealed=person.sealed.model_dump(mode="json"),
                               expires_at=format_ts(expires)))
        try:
            return await asyncio.wait_for(future, self.sign_timeout_s)
        except TimeoutError:
            raise ServiceError(f"no signature within {self.sign_timeout_s:g} s: nothing was "
                               "recorded", fix="try again, and sign when asked") from None
        finally:
            self._waiting.pop(nonce, None)


def audit_search_query(query: AuditQuery) -> SearchQuery:
    """The log's query for an ``audit {search}`` message (at most ``size`` records)."""
    return SearchQuery(since=query.since, until=query.until, actor=query.actor,
                       kind=query.kind, tool=query.tool, equipment=query.equipment,
                       text=query.text, seq_from=query.seq_from, seq_to=query.seq_to,
                       limit=query.size, newest_first=query.newest_first)
