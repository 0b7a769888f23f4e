"""Signed acts over the socket: one connection's approvals, denials and executions of
plant writes and alarm shelves, and its alarm actions (acknowledge, confirm, comment, ask
to shelve), each signed where the in-process command signs, by the caller's own client
(agent.serve.signing), and checked by the same workflow, with the same rules, as the
in-process commands (agent.approvals, agent.alarms).

Who acts is the kernel's word (the connection's OS account -> the enrolled person, read
again from the register for every act, so a person disabled meanwhile is refused); the
role is the one the connection was welcomed in. The service holds no private key.

The signatures (the caller acting, the sign requests) are in act_signing.py, the
read-only queries the acts work on in review_queries.py.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from dataclasses import replace
from datetime import timedelta
from typing import Any

from agent.approvals.executor import ApprovedWriteExecutor, WriteOutcome
from agent.approvals.models import ApprovalRequest
from agent.errors import PlantAgentError, UsageError
from agent.handover import HandoverReport, build_handover
from agent.handover.ack import CANCELLED_EVENT, acknowledge, acknowledgements, find_handover
from agent.people.identity import Acting, person_of_account
from agent.policy.reviewers import SIGN_NOTES
from agent.serve.client_messages import Act, AlarmAct, HandoverAct, ReviewAct
from agent.serve.queue import QUESTION
from agent.serve.review_queries import ReviewQueries
from agent.serve.service_messages import Done, Error, Event, Queued
from agent.serve.stoppable import StoppableModel
from agent.service.review_notes import check_review_note, record_review_note
from tools.context import utcnow

log = logging.getLogger(__name__)


class ConnectionActs(ReviewQueries):
    """The signed acts of one connection (``account`` in ``role``); ``send`` writes a
    message to it."""

    # -- acts -------------------------------------------------------------------------

    async def act(self, act: Act) -> None:
        """Run ``act``; ``done`` or ``error`` with its id."""
        await self._reply(act.id, act.action, act.target, self._act(act))

    async def alarm(self, act: AlarmAct) -> None:
        """Run an alarm act; ``done`` or ``error`` with its id."""
        await self._reply(act.id, act.action, act.condition or act.request or "",
                          self._alarm(act))

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
            self._send(Error.of(mid, exc))
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
