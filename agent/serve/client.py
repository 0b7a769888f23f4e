"""Clients of the site service, and the one interface the CLI and the terminal UI
(``terminal_ui.remote``) ask through: ``ask(question, on_event) -> AgentAnswer``,
cancelled by cancelling the awaiting task.

:class:`ServiceClient` talks to `plantagent serve` over its Unix socket (the service
knows the caller from the kernel; no passphrase on this side). :class:`AgentClient`
answers in this process (the single-user demo), as commands always did.

The socket and the exchange under :class:`ServiceClient` are in client_connection.py,
the calls for the read-only views in client_reads.py.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, Protocol

from agent.errors import ServiceError
from agent.people.statements import SignedStatement
from agent.pipeline.answer import AgentAnswer
from agent.pipeline.events import AgentEvent
from agent.pipeline.runner import Agent
from agent.serve.client_connection import EventHandler, Signer, place_text
from agent.serve.client_messages import (
    Act,
    AlarmAct,
    AlarmsQuery,
    AlarmsReportQuery,
    ApprovalsQuery,
    Ask,
    AuditQuery,
    Cancel,
    HandoverAct,
    JournalQuery,
    PlantRequest,
    ReviewAct,
    StatusRequest,
    TriageQuery,
)
from agent.serve.client_reads import ServiceReads
from agent.serve.protocol import encode
from agent.serve.results import answer_from_wire
from agent.serve.service_messages import (
    Alarms,
    AlarmsReport,
    Answer,
    Approvals,
    AuditView,
    Done,
    Error,
    Event,
    Journal,
    Queued,
    SignRequest,
    Triage,
)
from agent.serve.status import SiteServiceStatus


class AskClient(Protocol):
    """What a face asks through, whether the site service or this process answers."""

    async def ask(self, question: str, on_event: EventHandler) -> AgentAnswer:
        """Answer ``question``, reporting progress to ``on_event``; cancel the awaiting
        task to stop it (the cancellation is audited)."""
        ...


class AgentClient:
    """Answers in this process (the single-user demo), as ``actor`` in ``role``."""

    def __init__(self, agent: Agent, *, actor: str, role: str) -> None:
        self.agent = agent
        self.actor = actor
        self.role = role

    async def ask(self, question: str, on_event: EventHandler) -> AgentAnswer:
        """Answer ``question`` with the agent of this process."""
        return await self.agent.ask(question, actor=self.actor, role=self.role,
                                    on_event=on_event)


class ServiceClient(ServiceReads):
    """A connection to the site service at ``path``; use ``async with``. ``welcome`` says
    who the service knows the caller as. Several questions may be in flight at once."""

    async def __aenter__(self) -> ServiceClient:
        await self.connect()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def ask(self, question: str, on_event: EventHandler) -> AgentAnswer:
        """Ask the service (see AskClient): progress, place in line, then the answer;
        ServiceError when the service refuses it or stops before answering."""
        writer = self._connected()
        qid = f"q{next(self._ids)}"
        inbox: asyncio.Queue[Queued | Event | Answer | Error] = asyncio.Queue()
        self._pending[qid] = inbox
        try:
            writer.write(encode(Ask(id=qid, question=question)))
            while True:
                message = await inbox.get()
                if isinstance(message, Queued):
                    on_event(AgentEvent("status", place_text(message.position)))
                elif isinstance(message, Event):
                    on_event(AgentEvent(message.kind, message.text))
                elif isinstance(message, Answer):
                    return answer_from_wire(message.answer)
                else:
                    raise ServiceError(message.message, fix=message.fix)
        except asyncio.CancelledError:
            if self._writer is not None and not self._writer.is_closing():
                self._writer.write(encode(Cancel(id=qid)))
            raise
        finally:
            self._pending.pop(qid, None)

    async def status(self) -> SiteServiceStatus:
        """The service's status (`plantagent status`)."""
        writer = self._connected()
        future: asyncio.Future[SiteServiceStatus] = asyncio.get_running_loop().create_future()
        self._status.append(future)
        writer.write(encode(StatusRequest()))
        return await future

    async def plant(self) -> dict[str, Any]:
        """The plant now as JSON (agent.service.views.PlantSnapshot's fields; read-only);
        ServiceError when the service cannot read it or is gone."""
        writer = self._connected()
        rid = f"p{next(self._ids)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._plants[rid] = future
        try:
            writer.write(encode(PlantRequest(id=rid)))
            return await future
        finally:
            self._plants.pop(rid, None)

    async def approvals(self, *, states: list[str] | None = None,
                        request: str | None = None) -> list[dict[str, Any]]:
        """The approval requests (ApprovalRequest as JSON each): ``request`` alone, else
        those in ``states`` (all when None), newest first."""
        return (await self.approvals_view(states=states, request=request)).requests

    async def approvals_view(self, *, states: list[str] | None = None,
                             request: str | None = None, detail: bool = False) -> Approvals:
        """:meth:`approvals` with what the caller may do with each request, and with
        ``detail`` (one ``request``) its question, evidence and verified signatures."""
        rid = f"r{next(self._ids)}"
        message = await self._exchange(rid, ApprovalsQuery(id=rid, states=states,
                                                            request=request, detail=detail),
                                       sign=None)
        assert isinstance(message, Approvals)
        return message

    async def act(self, action: Literal["approve", "deny", "execute"], target: str, *,
                  sign: Signer, note: str = "", execute: bool = False,
                  as_name: str | None = None) -> dict[str, Any]:
        """A signed decision on the approval request ``target``: each statement the
        service prepares is signed here by ``sign`` (the caller's own key); the result
        is ``{"request": ..., "write": ...}`` as JSON. ServiceError when the service
        refuses it (its message and fix) or the signing fails (nothing is recorded)."""
        aid = f"a{next(self._ids)}"
        message = await self._exchange(aid, Act(id=aid, action=action, target=target,
                                                note=note, execute=execute, as_name=as_name),
                                       sign=sign, target=target)
        assert isinstance(message, Done)
        return message.result

    async def alarms(self, what: Literal["board", "requests"], *, every: bool = False
                     ) -> list[dict[str, Any]]:
        """The alarm board (rows: state, priority, rank) or the shelve requests (open
        ones; every one with ``every``), as JSON."""
        return (await self.alarms_view(what, every=every)).items

    async def alarms_view(self, what: Literal["board", "requests"], *, every: bool = False
                          ) -> Alarms:
        """:meth:`alarms` with, for the board, the alarm actions the caller's role may
        take or ask for."""
        rid = f"l{next(self._ids)}"
        message = await self._exchange(rid, AlarmsQuery(id=rid, what=what, all=every),
                                       sign=None)
        assert isinstance(message, Alarms)
        return message

    async def triage(self, *, report: str | None = None, limit: int = 50) -> Triage:
        """The triage reports (TriageReport as JSON each), newest first; with ``report``
        that one and its Markdown (in the site's time). ServiceError when unknown."""
        rid = f"t{next(self._ids)}"
        message = await self._exchange(rid, TriageQuery(id=rid, report=report, limit=limit),
                                       sign=None)
        assert isinstance(message, Triage)
        return message

    async def review(self, first: int, last: int, verdict: str, note: str, *,
                     sign: Signer, as_name: str | None = None) -> dict[str, Any]:
        """A review note on audit records ``first``..``last`` signed by ``sign`` (the
        caller's own key; an auditor's connection): the AuditRecord as JSON. The
        statement is checked to be this note before anything is signed."""
        def checked(request: SignRequest) -> SignedStatement:
            asked = request.statement
            if (asked.get("first"), asked.get("last"), asked.get("verdict"),
                    asked.get("note")) != (first, last, verdict, note.strip()):
                raise ServiceError("the service asked to sign another review note than "
                                   "the one given", fix="report it: nothing was signed")
            return sign(request)

        aid = f"a{next(self._ids)}"
        message = await self._exchange(aid, ReviewAct(id=aid, first=first, last=last,
                                                       verdict=verdict, note=note,
                                                       as_name=as_name), sign=checked)
        assert isinstance(message, Done)
        return dict(message.result["record"])

    async def journal(self) -> Journal:
        """Whether the service records the alarm journal (it starts it if the settings
        want it and it does not)."""
        rid = f"j{next(self._ids)}"
        message = await self._exchange(rid, JournalQuery(id=rid), sign=None)
        assert isinstance(message, Journal)
        return message

    async def alarms_report(self, since: datetime, until: datetime) -> dict[str, Any]:
        """The alarm report's data for [since, until]
        (agent.alarms.report_files.data_to_json); ServiceError with the service's fix."""
        rid = f"r{next(self._ids)}"
        message = await self._exchange(rid, AlarmsReportQuery(id=rid, since=since,
                                                              until=until), sign=None)
        assert isinstance(message, AlarmsReport)
        return message.data

    async def alarm(self, action: Literal["acknowledge", "confirm", "comment", "shelve",
                                          "unshelve", "approve", "deny"], *,
                    sign: Signer | None = None, **fields: Any) -> dict[str, Any]:
        """An alarm act as the caller (AlarmAct's fields); approving or denying a shelve
        request is signed by ``sign``. ``{"action": AlarmActionResult}`` or ``{"request":
        ShelveRequest}`` as JSON; ServiceError with the service's message and fix."""
        aid = f"a{next(self._ids)}"
        message = await self._exchange(aid, AlarmAct(id=aid, action=action, **fields),
                                       sign=sign, target=fields.get("request"))
        assert isinstance(message, Done)
        return message.result

    async def audit(self, **fields: Any) -> AuditView:
        """A page of the audit log or (``verify=True``) its verification (AuditQuery's
        fields); ServiceError when the caller's role may not read it."""
        rid = f"u{next(self._ids)}"
        message = await self._exchange(rid, AuditQuery(id=rid, **fields), sign=None)
        assert isinstance(message, AuditView)
        return message

    async def handover(self, action: Literal["write", "ack", "acks"], *,
                       sign: Signer | None = None, on_event: EventHandler | None = None,
                       **fields: Any) -> dict[str, Any]:
        """The shift handover as the caller (HandoverAct's fields): ``{"report": ...}``
        for ``write`` (its place in line and steps go to ``on_event`` as a question's do;
        cancel the awaiting task to drop it, audited by the service);
        ``{"handover", "person", "role", "record"}`` for ``ack`` (signed by ``sign``);
        ``{"handover", "acknowledgements"}`` for ``acks``; as JSON."""
        aid = f"a{next(self._ids)}"
        message = await self._exchange(aid, HandoverAct(id=aid, action=action, **fields),
                                       sign=sign, on_event=on_event,
                                       cancellable=action == "write")
        assert isinstance(message, Done)
        return message.result
