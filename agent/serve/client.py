"""Clients of the site service, and the one interface the CLI and the terminal UI
(``terminal_ui.remote``) ask through: ``ask(question, on_event) -> AgentAnswer``,
cancelled by cancelling the awaiting task.

:class:`ServiceClient` talks to `plantagent serve` over its Unix socket (the service
knows the caller from the kernel; no passphrase on this side). :class:`AgentClient`
answers in this process (the single-user demo), as commands always did.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from agent.errors import PlantAgentError, ServiceError, UsageError
from agent.people.statements import SignedStatement
from agent.pipeline.answer import AgentAnswer
from agent.pipeline.events import AgentEvent
from agent.pipeline.runner import Agent
from agent.serve.client_messages import (
    Act,
    AlarmAct,
    AlarmsQuery,
    AlarmsReportQuery,
    ApprovalsQuery,
    Ask,
    AuditQuery,
    Cancel,
    DocsQuery,
    HandoverAct,
    Hello,
    HistoryQuery,
    IncidentsQuery,
    JournalQuery,
    PlantRequest,
    ReviewAct,
    Signature,
    StatusRequest,
    TrendQuery,
    TriageQuery,
    TwinQuery,
    WhatIfQuery,
)
from agent.serve.protocol import MAX_LINE, encode, service_message
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
    Plant,
    Queued,
    ReadResult,
    SignRequest,
    Status,
    Triage,
    Welcome,
)
from agent.serve.status import SiteServiceStatus

EventHandler = Callable[[AgentEvent], None]
#: What the service answers an act or a read-only query with (a handover being written
#: also sends its place in line and its steps).
_Reply = (SignRequest | Done | Approvals | Alarms | Triage | AuditView | AlarmsReport
          | Journal | ReadResult | Error | Queued | Event)
#: Signs what the service prepared, with the caller's own key (local_signing.sign_prepared
#: with the person's secret); runs in a worker thread (it may ask at the terminal).
Signer = Callable[[SignRequest], SignedStatement]

_RESTART_FIX = ("see whether it runs (plantagent status; systemctl status plantagent), "
                "then ask again: nothing was answered")


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


def place_text(position: int) -> str:
    """A question's place in line as a person reads it."""
    if position <= 1:
        return "waiting for the model: next in line"
    return f"waiting for the model: {position - 1} ahead of you"


class ServiceClient:
    """A connection to the site service at ``path``; use ``async with``. ``welcome`` says
    who the service knows the caller as. Several questions may be in flight at once."""

    def __init__(self, path: Path, *, role: str | None = None) -> None:
        self.path = path
        self.role = role
        self.welcome: Welcome | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[str, asyncio.Queue[Queued | Event | Answer | Error]] = {}
        self._status: list[asyncio.Future[SiteServiceStatus]] = []
        self._plants: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._acts: dict[str, asyncio.Queue[_Reply]] = {}
        self._task: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._lost: ServiceError | None = None

    @property
    def lost(self) -> bool:
        """True once the connection is gone (the service stopped, or this client closed
        it): connect a new client to ask again."""
        return self._lost is not None

    async def __aenter__(self) -> ServiceClient:
        await self.connect()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def connect(self) -> Welcome:
        """Connect and say hello; ServiceError when no service answers or it refuses."""
        try:
            self._reader, self._writer = await asyncio.open_unix_connection(
                os.fspath(self.path), limit=MAX_LINE)
        except (FileNotFoundError, ConnectionRefusedError):
            raise ServiceError(f"no plantagent service answers on {self.path}",
                               fix="start it (systemctl start plantagent, or plantagent "
                               "serve), or ask without it (--no-service)") from None
        except PermissionError:
            raise ServiceError(f"your account may not connect to {self.path}",
                               fix="an administrator adds your account to the service's "
                               "group (plantagent serve --group)") from None
        self._writer.write(encode(Hello(role=self.role)))
        first = await self._reader.readline()
        if not first:
            raise ServiceError("the service closed the connection at once",
                               fix=_RESTART_FIX)
        message = service_message(first)
        if isinstance(message, Error):
            await self.close()
            raise ServiceError(f"the service refused you: {message.message}",
                               fix=message.fix)
        if not isinstance(message, Welcome):
            raise ServiceError("the service did not welcome the connection",
                               fix="client and service must be the same plantagent version")
        self.welcome = message
        self._task = asyncio.create_task(self._read(), name="plantagent-service-client")
        return message

    async def close(self) -> None:
        """Close the connection (questions in flight are cancelled by the service)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()
            self._writer = None

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

    async def read(self, query: Callable[[str], TwinQuery | HistoryQuery | WhatIfQuery
                                         | DocsQuery | TrendQuery | IncidentsQuery]) -> Any:
        """A read-only view (``query`` builds its message from an id): its result as
        JSON (agent.serve.reads); ServiceError with the service's message and fix."""
        rid = f"v{next(self._ids)}"
        message = await self._exchange(rid, query(rid), sign=None)
        assert isinstance(message, ReadResult)
        return message.data

    async def twin(self, what: Literal["assets", "semantics"], *, every: bool = False
                   ) -> Any:
        """The asset model (every equipment with its tags; retired ones too with
        ``every``) or the tag semantics, as JSON."""
        return await self.read(lambda rid: TwinQuery(id=rid, what=what, all=every))

    async def history(self, tag: str, *, minutes: float, now: datetime) -> dict[str, Any]:
        """``tag``'s trend summary (TrendSummary as JSON) over the ``minutes`` before
        ``now``."""
        return dict(await self.read(lambda rid: HistoryQuery(id=rid, tag=tag,
                                                             minutes=minutes, now=now)))

    async def what_if(self, equipment: str, change: str, *, hours: float, now: datetime
                      ) -> dict[str, Any]:
        """The predicted effect of ``change`` on ``equipment`` (WhatIfResult as JSON)."""
        return dict(await self.read(lambda rid: WhatIfQuery(
            id=rid, equipment=equipment, change=change, hours=hours, now=now)))

    async def docs(self, query: str, *, k: int = 5,
                   mode: Literal["hybrid", "fts", "vector"] = "hybrid"
                   ) -> list[dict[str, Any]]:
        """The ``k`` best passages for ``query`` (agent.serve.reads.docs_search's rows)."""
        return list(await self.read(lambda rid: DocsQuery(id=rid, query=query, k=k,
                                                          mode=mode)))

    async def docs_list(self) -> list[dict[str, Any]]:
        """The indexed documents (agent.serve.reads.docs_list's rows)."""
        return list(await self.read(lambda rid: DocsQuery(id=rid, what="list")))

    async def incidents(self, symptoms: str | None = None, *, equipment: str | None = None,
                        readings: dict[str, float] | None = None, k: int = 3
                        ) -> list[dict[str, Any]]:
        """The ``k`` past incidents most like these (agent.serve.reads.incidents_search's
        rows)."""
        return list(await self.read(lambda rid: IncidentsQuery(
            id=rid, symptoms=symptoms, equipment=equipment, readings=readings or {}, k=k)))

    async def trend(self, tag: str, hours: float) -> dict[str, Any]:
        """``tag``'s history over the last ``hours`` from the plant's server
        (agent.service.views.TrendView as JSON)."""
        return dict(await self.read(lambda rid: TrendQuery(id=rid, tag=tag, hours=hours)))

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

    async def _exchange(self, mid: str, request: BaseModel, *, sign: Signer | None,
                        target: str | None = None, on_event: EventHandler | None = None,
                        cancellable: bool = False,
                        ) -> (Done | Approvals | Alarms | Triage | AuditView | AlarmsReport
                              | Journal | ReadResult):
        writer = self._connected()
        inbox: asyncio.Queue[_Reply] = asyncio.Queue()
        self._acts[mid] = inbox
        try:
            writer.write(encode(request))
            while True:
                message = await inbox.get()
                if isinstance(message, Error):
                    # A usage error stays one (the command's exit 2, as in process).
                    raise (UsageError if message.usage else ServiceError)(message.message,
                                                                          fix=message.fix)
                if isinstance(message, Queued | Event):
                    if on_event is not None:
                        on_event(AgentEvent("status", place_text(message.position))
                                 if isinstance(message, Queued)
                                 else AgentEvent(message.kind, message.text))
                    continue
                if not isinstance(message, SignRequest):
                    return message
                signed, refused = None, None
                try:
                    if sign is None:
                        raise ServiceError("the service asked for a signature out of turn",
                                           fix="client and service must be the same version")
                    about = message.statement.get("request")
                    if target is not None and about is not None and about != target.strip():
                        raise ServiceError(f"the service asked to sign about {about}, not "
                                           f"{target}", fix="report it: nothing was signed")
                    signed = await asyncio.to_thread(sign, message)
                except PlantAgentError as exc:
                    refused = exc
                self._connected().write(encode(Signature(
                    id=mid, nonce=message.nonce,
                    signed=signed.model_dump(mode="json") if signed is not None else None,
                    refused=None if refused is None else refused.message)))
                if refused is not None:
                    raise refused
        except asyncio.CancelledError:
            if cancellable and self._writer is not None and not self._writer.is_closing():
                self._writer.write(encode(Cancel(id=mid)))
            raise
        finally:
            self._acts.pop(mid, None)

    def _connected(self) -> asyncio.StreamWriter:
        if self._lost is not None:
            raise self._lost
        if self._writer is None:
            raise ServiceError("the client is not connected", fix="use `async with`")
        return self._writer

    async def _read(self) -> None:
        assert self._reader is not None
        lost = ServiceError(
            "the service closed the connection before answering (stopped or restarted)",
            fix=_RESTART_FIX)
        try:
            while line := await self._reader.readline():
                message = service_message(line)
                if isinstance(message, Status):
                    if self._status:
                        self._status.pop(0).set_result(
                            SiteServiceStatus.model_validate(message.status))
                    continue
                qid = getattr(message, "id", None)
                plant = self._plants.get(qid or "")
                if plant is not None and not plant.done():
                    if isinstance(message, Plant):
                        plant.set_result(message.snapshot)
                    elif isinstance(message, Error):
                        plant.set_exception(ServiceError(message.message, fix=message.fix))
                    continue
                if qid in self._pending:
                    self._pending[qid].put_nowait(message)  # type: ignore[arg-type]
                elif qid in self._acts:
                    self._acts[qid].put_nowait(message)  # type: ignore[arg-type]
        except (ConnectionError, ServiceError):
            pass
        except asyncio.CancelledError:
            lost = ServiceError("the connection to the service was closed by this client",
                                fix="connect again to ask")
            raise
        finally:
            self._lost = lost
            for inbox in self._pending.values():
                inbox.put_nowait(Error(message=lost.message, fix=lost.fix))
            for waiting in self._acts.values():
                waiting.put_nowait(Error(message=lost.message, fix=lost.fix))
            futures: list[asyncio.Future[Any]] = [*self._status, *self._plants.values()]
            for future in futures:
                if not future.done():
                    future.set_exception(lost)
