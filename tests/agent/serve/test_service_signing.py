"""Personal signatures over the site service's socket, against the real service, the
real encrypted site and the real demo plant: the service prepares each statement, the
caller's own client signs it with the caller's own key, the service checks it and
records it. Another person's key, an altered statement, a replayed signature, a wrong
key file and a disabled person are refused with nothing recorded; the two-person rule
holds over the socket; the CLI decides through the service with no site passphrase."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from pathlib import Path

import pytest

from agent.approvals.authority import check_statement
from agent.cli import main
from agent.errors import ServiceError, UsageError
from agent.people.identity import os_account
from agent.people.names import person_key
from agent.people.statements import SignedStatement
from agent.serve.client import ServiceClient
from agent.serve.client_connection import Signer
from agent.serve.client_messages import Signature
from agent.serve.protocol import encode, service_message
from agent.serve.service_messages import Done, Error, SignRequest
from agent.serve.signing import NONCE_FIELD
from agent.serve.site_socket import socket_path
from plant.server import DemoPlantServer
from tests.support.runtimes import scripted_runtime

from .serve_helpers import HeldModel, passphrase_site, running_service, until
from .signing_helpers import (
    VALUE,
    asked_to_sign,
    enroll_people,
    own_signer,
    pending_request,
    sam_and_rita,
    sams_request,
    signer_as,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


def approved_records(runtime: object, request_id: str) -> list[dict[str, object]]:
    """The audit log's approval records of ``request_id`` that record a decision."""
    audit = runtime.audit  # type: ignore[attr-defined]
    return [r.payload for r in audit.search(kind="approval", text=request_id)
            if r.payload.get("request") == request_id
            and r.payload.get("event") in ("approved", "denied", "cancelled", "executing")]


async def test_an_approval_over_the_socket_is_the_callers_own_signature(
    live_plant: DemoPlantServer, site_home: Path, tmp_path: Path
) -> None:
    me = os_account()
    async with scripted_runtime(site_home, live_plant.endpoint, HeldModel()) as runtime:
        sam_and_rita(runtime, tmp_path)
        request = await sams_request(runtime)
        seen: list[SignRequest] = []
        async with running_service(runtime), \
                ServiceClient(socket_path(site_home)) as client:
            assert client.welcome is not None and client.welcome.role == "engineer"
            listed = await client.approvals(states=["pending"])
            assert [r["id"] for r in listed] == [request.id]
            result = await client.act("approve", request.id, execute=True,
                                      sign=own_signer(tmp_path / f"{me}.key", seen))
            # Two statements signed here, each prepared by the service with its own
            # nonce: the approval, then the claim of the write.
            assert [s.statement["verb"] for s in seen] == ["approve", "execute"]
            assert len({s.nonce for s in seen}) == 2
            assert all(s.statement[NONCE_FIELD] == s.nonce for s in seen)
            assert result["request"]["state"] == "executed"
            assert result["write"]["read_back"] == pytest.approx(VALUE)
            shown = await client.approvals(request=request.id)
            assert shown[0]["state"] == "executed"
        records = approved_records(runtime, request.id)
        assert [p["event"] for p in records] == ["approved", "executing"]
        for payload, verb in zip(records, ("approve", "execute"), strict=True):
            signed = payload["signed"]
            assert isinstance(signed, dict)
            assert signed["statement"]["person"] == person_key("Rita Eng")
            fresh = runtime.approvals.get(request.id)
            assert check_statement(runtime.people, fresh, verb, signed) == (
                person_key("Rita Eng"), "engineer")


async def test_a_nonce_signs_once_on_its_own_connection(
    live_plant: DemoPlantServer, site_home: Path, tmp_path: Path
) -> None:
    me = os_account()
    async with scripted_runtime(site_home, live_plant.endpoint, HeldModel()) as runtime:
        sam_and_rita(runtime, tmp_path)
        request = await sams_request(runtime)
        async with running_service(runtime):
            # The protocol by hand, as a client that keeps what it signed.
            reader, writer, asked = await asked_to_sign(site_home, request.id)
            signed = own_signer(tmp_path / f"{me}.key")(asked)
            answer = Signature(id="a1", nonce=asked.nonce, signed=signed.model_dump(mode="json"))
            writer.write(encode(answer))
            done = service_message(await reader.readline())
            assert isinstance(done, Done) and done.result["request"]["state"] == "approved"
            writer.write(encode(answer))  # the same signature again
            again = service_message(await reader.readline())
            assert isinstance(again, Error) and "no signature is awaited" in again.message
            writer.close()
        assert [p["event"] for p in approved_records(runtime, request.id)] == ["approved"]


async def test_a_client_gone_before_signing_leaves_nothing_recorded(
    live_plant: DemoPlantServer, site_home: Path, tmp_path: Path
) -> None:
    me = os_account()
    async with scripted_runtime(site_home, live_plant.endpoint, HeldModel()) as runtime:
        sam_and_rita(runtime, tmp_path)
        request = await sams_request(runtime)
        async with running_service(runtime):
            _reader, writer, asked = await asked_to_sign(site_home, request.id)
            writer.close()  # gone, the statement unsigned
            # The service is not stuck: the same person approves from a new connection.
            async with ServiceClient(socket_path(site_home)) as client:
                done = await client.act("approve", request.id,
                                        sign=own_signer(tmp_path / f"{me}.key"))
            assert done["request"]["state"] == "approved"
        [approval] = runtime.approvals.get(request.id).approvals
        assert approval.signed["statement"]["nonce"] != asked.nonce
        assert [p["event"] for p in approved_records(runtime, request.id)] == ["approved"]


async def test_forged_altered_replayed_and_unsigned_acts_are_refused(
    live_plant: DemoPlantServer, site_home: Path, tmp_path: Path
) -> None:
    me = os_account()
    async with scripted_runtime(site_home, live_plant.endpoint, HeldModel()) as runtime:
        admin = enroll_people(runtime, tmp_path, {
            "Sam Lead": ("sam-os", ["shift_lead"]), "Rita Eng": (me, ["engineer"]),
            "Bob Eng": ("bob-os", ["engineer"])})
        first = await pending_request(runtime, "Sam Lead", "sam-os")
        target = await pending_request(runtime, "Sam Lead", "sam-os")
        bob = runtime.people.get("Bob Eng")
        mine = tmp_path / f"{me}.key"
        async with running_service(runtime), \
                ServiceClient(socket_path(site_home)) as client:
            done = await client.act("approve", first.id, sign=own_signer(mine))
            old = done["request"]["approvals"][0]["signed"]
            prepared = "not the one the service prepared"
            refusals: list[tuple[str, Signer]] = [
                # Bob's key, on the statement prepared for Rita (named as Bob, or not).
                (f"names '{bob.key}'", signer_as(bob, tmp_path / "bob-os.key",
                                                 lambda s: {**s, "person": bob.key})),
                ("not Rita Eng's current key", signer_as(bob, tmp_path / "bob-os.key")),
                # Rita's own key on an altered statement.
                (prepared, signer_as(runtime.people.get("Rita Eng"), mine,
                                     lambda s: {**s, "expires_at": "2099-01-01T00:00:00Z"})),
                # Her own earlier signature (of another request), replayed.
                (prepared, lambda _r: SignedStatement.model_validate(old)),
            ]
            for why, sign in refusals:
                # (a signature naming someone else is the caller's usage error, as in
                # process; the others are the service's refusals)
                with pytest.raises((ServiceError, UsageError), match=why):
                    await client.act("approve", target.id, sign=sign)
            # A key file that is not hers: her client cannot unseal, and says so.
            with pytest.raises(Exception, match="wrong personal key file"):
                await client.act("approve", target.id,
                                 sign=own_signer(tmp_path / "bob-os.key"))
            # --as another person: refused before anything is signed.
            with pytest.raises(ServiceError, match="can not act as 'Bob Eng'"):
                await client.act("approve", target.id, sign=own_signer(mine),
                                 as_name="Bob Eng")
            # Disabled while connected: the register is read again for every act.
            runtime.people.disable(by=admin, name="Rita Eng")
            with pytest.raises(ServiceError, match="Rita Eng is disabled"):
                await client.act("approve", target.id, sign=own_signer(mine))
            # Reading is refused too, now (what they may do is asked of the register).
            with pytest.raises(ServiceError, match="Rita Eng is disabled"):
                await client.approvals(request=target.id)
        assert runtime.approvals.get(target.id).state == "pending"
        assert approved_records(runtime, target.id) == []
        assert runtime.approvals.get(target.id).approvals == []


async def test_the_requester_cannot_approve_over_the_socket(
    live_plant: DemoPlantServer, site_home: Path, tmp_path: Path
) -> None:
    me = os_account()
    async with scripted_runtime(site_home, live_plant.endpoint, HeldModel()) as runtime:
        enroll_people(runtime, tmp_path, {"Rita Eng": (me, ["engineer", "shift_lead"])})
        request = await pending_request(runtime, "Rita Eng", me)
        async with running_service(runtime), \
                ServiceClient(socket_path(site_home), role="engineer") as client:
            with pytest.raises(ServiceError, match=r"\(two-person rule\)"):
                await client.act("approve", request.id,
                                 sign=own_signer(tmp_path / f"{me}.key"))
            # Withdrawing her own request is hers to sign.
            done = await client.act("deny", request.id, note="not needed",
                                    sign=own_signer(tmp_path / f"{me}.key"))
            assert done["request"]["state"] == "denied"
        assert [p["event"] for p in approved_records(runtime, request.id)] == ["denied"]


async def test_the_cli_decides_through_the_service_without_the_site_passphrase(
    live_plant: DemoPlantServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    async with passphrase_site(live_plant.endpoint, tmp_path, monkeypatch,
                               sam_and_rita) as site:
        runtime = site.runtime
        request = await sams_request(runtime)
        base = ["--home", str(site.home)]
        async with running_service(runtime):
            code = await asyncio.to_thread(main, [*base, "approvals", "list", "--json"])
            out, err = capsys.readouterr()
            assert code == 0, err
            assert [r["id"] for r in json.loads(out)] == [request.id]
            code = await asyncio.to_thread(
                main, [*base, "approve", request.id, "--no-execute", "--json"])
            out, err = capsys.readouterr()
            assert code == 0, err
            decided = json.loads(out)["request"]
            assert decided["state"] == "approved"
            assert [a["person"] for a in decided["approvals"]] == [person_key("Rita Eng")]
            code = await asyncio.to_thread(main, [*base, "approvals", "execute", request.id])
            out, err = capsys.readouterr()
            assert code == 0, err
            assert f"{request.id}: wrote HX-101.OutletTemperatureSetpoint = 34" in out
            # A refusal is the service's message and fix, exit code 1, no traceback.
            code = await asyncio.to_thread(main, [*base, "deny", request.id])
            out, err = capsys.readouterr()
            assert code == 1 and "executed" in err and "Traceback" not in err
            # A wrong request id is the caller's mistake: exit code 2, as in process.
            code = await asyncio.to_thread(main, [*base, "approve", "AR-none", "--no-execute"])
            out, err = capsys.readouterr()
            assert code == 2 and "no approval request 'AR-none'" in err, err
            assert "approvals list" in err and "Traceback" not in err
        assert [p["event"] for p in approved_records(runtime, request.id)] == [
            "approved", "executing"]


async def test_a_late_signature_is_refused_and_nothing_recorded(
    live_plant: DemoPlantServer, site_home: Path, tmp_path: Path
) -> None:
    me = os_account()
    async with scripted_runtime(site_home, live_plant.endpoint, HeldModel()) as runtime:
        sam_and_rita(runtime, tmp_path)
        request = await sams_request(runtime)
        async with running_service(runtime) as server:
            server.sign_timeout_s = 0.2  # the person walked away from the terminal
            reader, writer, asked = await asked_to_sign(site_home, request.id)
            expired = service_message(await reader.readline())  # waits for the expiry
            assert isinstance(expired, Error) and expired.id == "a1"
            assert "no signature within" in expired.message
            signed = own_signer(tmp_path / f"{me}.key")(asked)
            writer.write(encode(Signature(id="a1", nonce=asked.nonce,
                                          signed=signed.model_dump(mode="json"))))
            late = service_message(await reader.readline())
            assert isinstance(late, Error) and "no signature is awaited" in late.message
            writer.close()
        assert approved_records(runtime, request.id) == []
        assert runtime.approvals.get(request.id).state == "pending"


async def test_people_at_their_passphrase_prompt_do_not_stall_the_service(
    live_plant: DemoPlantServer, site_home: Path, tmp_path: Path
) -> None:
    """Eight approvals wait for their signer (a person typing a passphrase): more than the
    default thread pool of a two-core machine. Someone else's reading still answers, and
    every approval goes through once the signers answer."""
    me = os_account()
    waiting = 8
    async with scripted_runtime(site_home, live_plant.endpoint, HeldModel()) as runtime:
        enroll_people(runtime, tmp_path, {
            "Sam Lead": ("sam-os", ["shift_lead"]), "Rita Eng": (me, ["engineer"])})
        requests = [await pending_request(runtime, "Sam Lead", "sam-os")
                    for _ in range(waiting)]
        typing = threading.Event()
        prompted: list[str] = []
        honest = own_signer(tmp_path / f"{me}.key")

        def at_the_prompt(request: SignRequest) -> SignedStatement:
            prompted.append(request.nonce)
            typing.wait(120)  # until the test lets them finish typing
            return honest(request)

        async with running_service(runtime), contextlib.AsyncExitStack() as stack:
            clients = [await stack.enter_async_context(ServiceClient(socket_path(site_home)))
                       for _ in range(waiting + 1)]
            acts = [asyncio.create_task(client.act("approve", request.id, sign=at_the_prompt))
                    for client, request in zip(clients, requests, strict=False)]
            try:
                await until(lambda: len(prompted) == waiting, "every signer at the prompt")
                listed = await asyncio.wait_for(
                    clients[-1].approvals(states=["pending"]), timeout=120)
            finally:
                typing.set()
            done = await asyncio.gather(*acts)
        assert {r["id"] for r in listed} == {r.id for r in requests}
        assert all(d["request"]["state"] == "approved" for d in done)
