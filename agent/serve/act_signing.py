"""One connection's side of the personal signatures its acts need (agent/serve/README.md,
"Personal signatures over the socket"): the caller's person, read again from the register,
acting with a signer that asks the caller's own client (``_actor``); the ``sign`` requests
sent, each with a one-time nonce, and the client's ``signature`` that answers each.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from agent.audit.records import format_ts
from agent.errors import PolicyDenied, ServiceError
from agent.people.identity import Acting, person_of_account
from agent.people.names import person_key
from agent.people.register import PeopleRegister
from agent.people.statements import SignedStatement
from agent.serve.client_messages import Act, AlarmAct, HandoverAct, ReviewAct, Signature
from agent.serve.queue import FairQueue
from agent.serve.service_messages import Error, SignRequest
from agent.serve.signing import NONCE_FIELD, SIGN_TIMEOUT_S, RemoteSigner
from agent.service import AgentService
from tools.context import utcnow

#: An act that may need the caller's signature.
AnyAct = Act | AlarmAct | HandoverAct | ReviewAct


class ActSigning:
    """The caller (``account`` in ``role``) of one connection and the signatures asked of
    them; ``send`` writes a message to it. :class:`agent.serve.acts.ConnectionActs` runs
    the acts."""

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
