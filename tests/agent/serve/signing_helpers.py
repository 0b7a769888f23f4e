"""Helpers of the tests of signed acts over the site service: people enrolled with
approver roles, a pending request to decide, and signers a hostile client might use."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from unittest.mock import patch

from agent.approvals.models import ApprovalRequest
from agent.people.identity import os_account
from agent.people.keys import PERSON_CONTEXT, KeySecret, unseal_keys
from agent.people.models import Person, PersonKey, SealedKey
from agent.people.statements import PersonalSigner, SignedStatement, signed_bytes
from agent.runtime import SiteRuntime
from agent.serve.client_connection import Signer
from agent.serve.client_messages import Act, Hello
from agent.serve.local_signing import sign_prepared
from agent.serve.protocol import encode, service_message
from agent.serve.service_messages import SignRequest, Welcome
from agent.serve.site_socket import socket_path

from .serve_helpers import enroll_people

#: A setpoint the demo plant's write policy allows (engineers approve, two-person rule).
TAG, VALUE = "HX-101.OutletTemperatureSetpoint", 34.0


async def pending_request(runtime: SiteRuntime, requester: str,
                          account: str) -> ApprovalRequest:
    """A pending request of ``requester`` (a shift lead) to set TAG to VALUE, recorded as
    asked for from the OS account ``account`` (this process runs as one account only;
    the test with real OS accounts asks from each)."""
    catalog = await runtime.catalog()
    with patch("agent.approvals.service.os_account", return_value=account):
        return runtime.approvals.propose_for_tag(
            actor=requester, role="shift_lead", catalog=catalog, tag=TAG, value=VALUE,
            reason="outlet runs warm", evidence_ids=[])


def own_signer(key_file: Path, seen: list[SignRequest] | None = None) -> Signer:
    """The honest client: signs what the service prepared with the key file's key."""
    def sign(request: SignRequest) -> SignedStatement:
        if seen is not None:
            seen.append(request)
        return sign_prepared(request, lambda _sealed: KeySecret(key_file=key_file))
    return sign


def signer_as(person: Person, key_file: Path,
              change: Callable[[dict[str, object]], dict[str, object]] = lambda s: s
              ) -> Signer:
    """A hostile client: signs (``change`` of) the prepared statement with ``person``'s
    key instead of the caller's own."""
    def sign(request: SignRequest) -> SignedStatement:
        statement = change(dict(request.statement))
        key: PersonKey = person.current_key
        sealed: SealedKey = person.sealed
        keys = unseal_keys(sealed, person.key, key, KeySecret(key_file=key_file))
        signature = keys.sign(signed_bytes(statement, key.fingerprint), context=PERSON_CONTEXT)
        return SignedStatement(statement=statement, key=key.fingerprint,
                               signature=signature.to_b64())
    return sign


def sam_and_rita(runtime: SiteRuntime, key_dir: Path,
                 more: dict[str, tuple[str, list[str]]] | None = None) -> PersonalSigner:
    """Sam Lead (a shift lead of another OS account) and Rita Eng (an engineer, this OS
    account), and ``more``; returns the first administrator."""
    return enroll_people(runtime, key_dir, {"Sam Lead": ("sam-os", ["shift_lead"]),
                                            "Rita Eng": (os_account(), ["engineer"]),
                                            **(more or {})})


async def sams_request(runtime: SiteRuntime) -> ApprovalRequest:
    """A pending request of Sam Lead's, for Rita to decide."""
    return await pending_request(runtime, "Sam Lead", "sam-os")


async def asked_to_sign(site_home: Path, request_id: str
                        ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, SignRequest]:
    """The protocol by hand: a connection that asked to approve ``request_id`` and holds
    the statement the service prepared for it."""
    reader, writer = await asyncio.open_unix_connection(str(socket_path(site_home)))
    writer.write(encode(Hello()))
    assert isinstance(service_message(await reader.readline()), Welcome)
    writer.write(encode(Act(id="a1", action="approve", target=request_id)))
    asked = service_message(await reader.readline())
    assert isinstance(asked, SignRequest)
    return reader, writer, asked
