"""Personal signatures over the socket, the service's side: a signer that holds no
private key and asks the connected person's own client to sign instead.

The service prepares the exact statement (what the in-process command would sign, plus
the person, the signing time and a one-time ``nonce``), sends it to the client with the
person's own sealed key, and accepts the answer only when it is that very statement,
byte for byte (RFC 8785), signed with the person's current key, and the nonce was issued
on this connection, is unused and has not expired. So a signature by another person's
key, an altered statement, a replayed signature and a late one are refused, and nothing
is recorded: the workflows (agent.approvals) sign before they record.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from agent.audit.records import format_ts
from agent.errors import IntegrityError
from agent.people.models import Person
from agent.people.statements import PersonalSigner, SignedStatement, check_signature, signed_bytes

#: The statement field that binds a signature to one request of the service.
NONCE_FIELD = "nonce"
#: How long a person has to sign (their passphrase typed at a terminal).
SIGN_TIMEOUT_S = 300.0

#: Asks the client to sign a prepared statement; blocks until it answers (a worker thread).
Challenge = Callable[[dict[str, Any]], SignedStatement]


class RemoteSigner(PersonalSigner):
    """Signs as ``person`` by asking their client (``challenge``); holds no private key.

    Used from a worker thread (the workflows sign synchronously); it refuses to run on
    the event loop, where waiting for the client would stall every connection.
    """

    def __init__(self, person: Person, challenge: Challenge) -> None:
        # No super().__init__: there is no private key on this side, by design.
        self.person = person
        self._challenge = challenge

    def sign(self, statement: dict[str, Any], *, now: datetime) -> SignedStatement:
        """The client's signature of ``statement`` (with person, time and a nonce added),
        checked (IntegrityError when it is not exactly that, by this person's key)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError("RemoteSigner.sign runs in a worker thread, never on the loop")
        prepared = {**statement, "person": self.person.key, "signed_at": format_ts(now),
                    NONCE_FIELD: secrets.token_hex(16)}
        signed = self._challenge(prepared)
        check_prepared(self.person, prepared, signed)
        return signed


def check_prepared(person: Person, prepared: dict[str, Any], signed: SignedStatement) -> None:
    """IntegrityError unless ``signed`` is ``prepared`` byte for byte, signed with
    ``person``'s current key, and the signature verifies."""
    current = person.current_key.fingerprint
    if signed.person != person.key:
        raise IntegrityError(
            f"the signature names {signed.person!r}; you are {person.name}",
            fix="sign with your own key: a person signs only as themselves")
    if signed.key != current:
        raise IntegrityError(
            f"signed with the key {signed.key[:16]}, not {person.name}'s current key "
            f"{current[:16]}", fix="sign with your own current key (plantagent people show)")
    try:
        same = signed_bytes(dict(signed.statement), current) == signed_bytes(prepared, current)
    except (TypeError, ValueError):
        same = False
    if not same:
        raise IntegrityError(
            "the signed statement is not the one the service prepared (altered, or an "
            "older signature replayed)", fix="sign exactly what the service sends; try again")
    check_signature(person, signed)
