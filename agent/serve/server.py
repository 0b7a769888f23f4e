"""The site service's socket server: who is calling (SO_PEERCRED -> OS account ->
enrolled person and role), their questions through the fair queue to the agent service,
progress and place in line back to them, cancellation on request or disconnect.

Every question ends in the audit log: answered by the agent, or cancelled (while waiting
here, while running in AgentService.ask). A service stopping tells each waiting client
so, instead of leaving it hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pwd
import socket
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agent.errors import PlantAgentError, ServiceError
from agent.people.identity import CALLER_ACCOUNT, choose_role, person_of_account
from agent.people.register import PeopleRegister
from agent.pipeline.events import AgentEvent
from agent.serve.acts import ConnectionActs
from agent.serve.alarm_reports import alarms_report
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
from agent.serve.message_base import PROTOCOL_VERSION
from agent.serve.protocol import MAX_LINE, client_message, encode
from agent.serve.queue import QUESTION, FairQueue
from agent.serve.read_views import ReadViews
from agent.serve.service_messages import Answer, Error, Event, Plant, Queued, Status, Welcome
from agent.serve.signing import SIGN_TIMEOUT_S
from agent.serve.site_clock import site_clock
from agent.serve.site_socket import peer_uid
from agent.serve.status import Guards, ServiceInfo, SiteServiceStatus
from agent.service import AgentService, egress_state
from agent.twin.documents.index import DocumentIndex

log = logging.getLogger(__name__)
#: What serves one read or act of a connection (run as its own task).
Handler = Callable[[Any], Coroutine[Any, Any, None]]

#: Bytes waiting for a slow client beyond which its token events are dropped (the
#: answer and every other message still go): the service never buffers without bound.
MAX_BUFFERED = 1 << 20
#: How long a connection may stay silent before its hello (it holds nothing meanwhile).
HELLO_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Caller:
    """A connected person, as the kernel and the register say."""

    person: str
    account: str
    role: str


class SiteServer:
    """Serves ``service`` on the listening socket ``listener`` to enrolled people."""

    def __init__(self, service: AgentService, people: PeopleRegister, listener: socket.socket,
                 *, queue: FairQueue | None = None, socket_file: Path | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 journal: Callable[[JournalQuery], Awaitable[BaseModel]] | None = None,
                 documents: Callable[[], DocumentIndex] | None = None,
                 ) -> None:
        self.service = service
        #: The read-only views (twin, history, what-if, documents, trend): agent.serve.reads.
        self._views = ReadViews(service, documents)
        #: The alarm journal's state (agent.serve.journal, over the service's runtime).
        self._journal = journal
        self.people = people
        self.queue = queue or FairQueue()
        self._listener = listener
        self._socket_file = socket_file
        self._clock = clock
        self._started = clock()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._stopping = False
        #: How long a person has to sign what the service prepared (agent.serve.signing).
        self.sign_timeout_s = SIGN_TIMEOUT_S

    async def start(self) -> None:
        """Accept connections (returns at once)."""
        self._server = await asyncio.start_unix_server(self._accept, sock=self._listener,
                                                       limit=MAX_LINE)

    async def stop(self) -> None:
        """Stop accepting; tell every client with a question in flight that the service is
        stopping (their questions are cancelled and audited), then close."""
        self._stopping = True
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
        if self._socket_file is not None:
            with contextlib.suppress(FileNotFoundError):
                self._socket_file.unlink()

    async def status(self) -> SiteServiceStatus:
        """The service, its queue, its connections and its guards."""
        base = await self.service.status()
        people = await asyncio.to_thread(
            lambda: sum(1 for p in self.people.people() if not p.disabled))
        info = self.service.sources.model.info
        return SiteServiceStatus(
            service=ServiceInfo(pid=os.getpid(), uptime_s=round(self._clock() - self._started, 1),
                                socket=str(self._socket_file or ""),
                                site=str(self.service.settings.home), people=people,
                                clients=len(self._writers)),
            queue=self.queue.view(), opcua_endpoint=base.endpoint,
            # The session's own state (no request made): the plant monitor's tracker only
            # moves when a screen refreshes, which a service without screens never does.
            opcua="connected" if self.service.sources.connection.connected
            else "not connected (it reconnects on the next request)",
            triage=f"running: {base.triage or 'watching'}" if self.service.triage else "off",
            guards=Guards(egress=egress_state(), site_unlocked=True, model=info.name,
                          backend=info.backend, tokens_per_s=base.tokens_per_s))

    # -- one connection ----------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self._writers.add(writer)
        try:
            await self._serve(reader, writer)
        except (asyncio.CancelledError, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._connections.discard(task)
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def send(message: BaseModel) -> None:
            if writer.is_closing():
                return
            if (isinstance(message, Event) and message.kind == "token"
                    and writer.transport.get_write_buffer_size() > MAX_BUFFERED):
                return  # a client that stops reading loses tokens, never its answer
            writer.write(encode(message))

        try:
            caller = await self._identify(reader, writer)
        except PlantAgentError as exc:
            send(Error.of(None, exc))
            await writer.drain()
            return
        send(Welcome(person=caller.person, account=caller.account, role=caller.role,
                     service_pid=os.getpid(), site_clock=site_clock(self.service.settings)))
        # Everything this connection starts (its tasks, their worker threads) is done for
        # the caller's account: a request asked for here records it.
        CALLER_ACCOUNT.set(caller.account)
        questions: dict[str, asyncio.Task[None]] = {}
        acts = ConnectionActs(self.service, self.people, account=caller.account,
                              role=caller.role, send=send, queue=self.queue,
                              sign_timeout_s=self.sign_timeout_s)
        # Each read and each act of a message type: (task kind, handler).
        reads: dict[type[BaseModel], tuple[str, Handler]] = {
            PlantRequest: ("plant", lambda m: self._plant(m, send)),
            ApprovalsQuery: ("approvals", acts.approvals),
            AlarmsQuery: ("alarms", acts.alarms),
            AuditQuery: ("audit", acts.audit),
            JournalQuery: ("journal", lambda m: self._journal_state(m, send)),
            AlarmsReportQuery: ("report", lambda m: self._report(m, send)),
            TriageQuery: ("triage", acts.triage),
            **{kind: ("read", lambda m: self._read(m, send))
               for kind in (TwinQuery, HistoryQuery, WhatIfQuery, DocsQuery, TrendQuery,
                            IncidentsQuery)},
        }
        signed_acts: dict[type[BaseModel], Handler] = {
            Act: acts.act, AlarmAct: acts.alarm, HandoverAct: acts.handover,
            ReviewAct: acts.review,
        }
        try:
            while line := await reader.readline():
                try:
                    message = client_message(line)
                except PlantAgentError as exc:
                    send(Error.of(None, exc))
                    continue
                if isinstance(message, Ask):
                    if message.id in questions and not questions[message.id].done():
                        send(Error(id=message.id, message=f"question {message.id} is "
                                   "already asked", fix="give each question its own id"))
                        continue
                    questions[message.id] = asyncio.create_task(
                        self._answer(caller, message, send), name=f"question-{message.id}")
                elif isinstance(message, Cancel):
                    # A question, or a handover being written (an act, but model work
                    # in line like a question: it may be dropped the same way).
                    for key in (message.id, f"write:{message.id}"):
                        if (task := questions.get(key)) is not None:
                            task.cancel()
                elif isinstance(message, StatusRequest):
                    send(Status(status=(await self.status()).model_dump(mode="json")))
                elif (read := reads.get(type(message))) is not None:
                    # In a task: a slow plant server or a long read must not hold up this
                    # client's cancels; dropped with the connection like its questions.
                    kind, handler = read
                    mid = str(getattr(message, "id", ""))
                    questions[f"{kind}:{mid}"] = asyncio.create_task(
                        handler(message), name=f"{kind}-{mid}")
                elif (act := signed_acts.get(type(message))) is not None:
                    mid = str(getattr(message, "id", ""))
                    if f"act:{mid}" in questions and not questions[f"act:{mid}"].done():
                        send(Error(id=mid, message=f"act {mid} is already under way",
                                   fix="give each act its own id"))
                        continue
                    questions[f"act:{mid}"] = asyncio.create_task(act(message),
                                                                  name=f"act-{mid}")
                    if isinstance(message, HandoverAct) and message.action == "write":
                        questions[f"write:{mid}"] = questions[f"act:{mid}"]
                elif isinstance(message, Signature):
                    acts.answer(message)
                await writer.drain()
        finally:
            # The client went away (or the service stops): its questions are dropped,
            # each cancellation audited; acts waiting for a signature fail, unrecorded.
            acts.close()
            for task in questions.values():
                task.cancel()
            if questions:
                await asyncio.gather(*questions.values(), return_exceptions=True)

    async def _identify(self, reader: asyncio.StreamReader,
                        writer: asyncio.StreamWriter) -> Caller:
        try:
            line = await asyncio.wait_for(reader.readline(), HELLO_TIMEOUT_S)
        except TimeoutError:
            raise ServiceError(f"no hello within {HELLO_TIMEOUT_S:.0f} s",
                               fix="use plantagent's own client (ServiceClient)") from None
        hello = client_message(line) if line else None
        if not isinstance(hello, Hello):
            raise ServiceError("the first message must be hello",
                               fix="use plantagent's own client (ServiceClient)")
        if hello.version != PROTOCOL_VERSION:
            raise ServiceError(f"protocol version {hello.version} is not served (this "
                               f"service speaks {PROTOCOL_VERSION})",
                               fix="use the plantagent of the service's installation")
        uid = peer_uid(writer.get_extra_info("socket"))
        try:
            account = pwd.getpwuid(uid).pw_name
        except KeyError:
            raise ServiceError(f"uid {uid} has no account name",
                               fix="connect from an OS account enrolled on the site") from None
        person = await asyncio.to_thread(person_of_account, self.people, account)
        role = choose_role(person, hello.role, self.service.settings.agent.role)
        return Caller(person=person.name, account=account, role=role)

    async def _journal_state(self, query: JournalQuery,
                             send: Callable[[BaseModel], None]) -> None:
        if self._journal is None:
            send(Error(id=query.id, message="this service does not keep the alarm journal",
                       fix="restart it with plantagent serve"))
            return
        try:
            send(await self._journal(query))
        except PlantAgentError as exc:
            send(Error.of(query.id, exc))

    async def _report(self, query: AlarmsReportQuery,
                      send: Callable[[BaseModel], None]) -> None:
        send(await alarms_report(self.service, query))

    async def _read(self, query: TwinQuery | HistoryQuery | WhatIfQuery | DocsQuery
                    | TrendQuery | IncidentsQuery, send: Callable[[BaseModel], None]) -> None:
        send(await self._views.answer(query))

    async def _plant(self, request: PlantRequest, send: Callable[[BaseModel], None]) -> None:
        """The plant now (read-only, as the terminal UI's Plant tab shows it)."""
        try:
            snapshot = await self.service.plant_snapshot()
        except PlantAgentError as exc:
            send(Error.of(request.id, exc))
            return
        send(Plant(id=request.id, snapshot=snapshot.model_dump(mode="json")))

    async def _answer(self, caller: Caller, ask: Ask, send: Callable[[BaseModel], None]
                      ) -> None:
        def relay(event: AgentEvent) -> None:
            send(Event(id=ask.id, kind=event.kind, text=event.text))

        def place(position: int) -> None:
            send(Queued(id=ask.id, position=position))

        started = False
        try:
            async with self.queue.turn(caller.person, priority=QUESTION, label=ask.id,
                                       on_position=place):
                started = True
                answer = await self.service.ask(ask.question, relay, actor=caller.person,
                                                role=caller.role)
            send(Answer(id=ask.id, answer=answer.model_dump(mode="json")))
        except asyncio.CancelledError:
            if not started:  # a running question is audited by AgentService.ask
                await asyncio.to_thread(
                    self.service.audit.append, "answer", caller.person,
                    {"question": ask.question, "outcome": "cancelled",
                     "note": "cancelled while waiting for the model"}, role=caller.role)
            why = ("the service is stopping" if self._stopping
                   else "cancelled; nothing was answered")
            send(Error(id=ask.id, message=f"question {ask.id}: {why}", cancelled=True,
                       fix="ask again once the service is back" if self._stopping else None))
        except PlantAgentError as exc:
            send(Error.of(ask.id, exc))
        except Exception as exc:  # a bug: the asker hears of it instead of waiting forever
            log.exception("question %s of %s failed", ask.id, caller.person)
            send(Error(id=ask.id, message=f"internal error: {type(exc).__name__}: {exc}",
                       fix="this is a bug in plantagent: the service's log has the "
                       "traceback; report it"))
