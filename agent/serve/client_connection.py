"""The connection under :class:`agent.serve.client.ServiceClient`: the Unix socket to
`plantagent serve`, the ``hello``, the reader task that hands each line to whoever waits
for it, and the exchange of one act or query (with the signatures the service asks for).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agent.errors import PlantAgentError, ServiceError, UsageError
from agent.people.statements import SignedStatement
from agent.pipeline.events import AgentEvent
from agent.serve.client_messages import Cancel, Hello, Signature
from agent.serve.protocol import MAX_LINE, encode, service_message
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


def place_text(position: int) -> str:
    """A question's place in line as a person reads it."""
    if position <= 1:
        return "waiting for the model: next in line"
    return f"waiting for the model: {position - 1} ahead of you"


class ServiceConnection:
    """The socket to the site service at ``path`` and what waits on it (questions,
    status, plant snapshots, acts); :class:`agent.serve.client.ServiceClient` adds the
    calls."""

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
