"""Helpers of the tests of signed acts over the site service: people enrolled with
approver roles, a pending request to decide, and signers a hostile client might use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from unittest.mock import patch

from agent.approvals.models import ApprovalRequest
from agent.people.keys import PERSON_CONTEXT, KeySecret, unseal_keys, write_key_file
from agent.people.models import Person, PersonKey, SealedKey
from agent.people.statements import PersonalSigner, SignedStatement, signed_bytes
from agent.runtime import SiteRuntime
from agent.serve.client import Signer
from agent.serve.local_signing import sign_prepared
from agent.serve.protocol import SignRequest

from .serve_helpers import enroll

#: A setpoint the demo plant's write policy allows (engineers approve, two-person rule).
TAG, VALUE = "HX-101.OutletTemperatureSetpoint", 34.0


def enroll_people(runtime: SiteRuntime, key_dir: Path,
                  people: dict[str, tuple[str, list[str]]]) -> PersonalSigner:
    """Enrol ``people`` (name -> (OS account, roles)), each with a key file
    ``key_dir/ACCOUNT.key``; returns the first administrator."""
    admin = enroll(runtime, key_dir, {})
    for name, (account, roles) in people.items():
        path = key_dir / f"{account}.key"
        write_key_file(path)
        runtime.people.enroll(by=admin, name=name, os_account=account, roles=roles,
                              secret=KeySecret(key_file=path))
    return admin


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
