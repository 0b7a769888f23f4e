"""The demo plant with certificates, SignAndEncrypt policies and username login, as the
OPC UA client's security tests need it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from asyncua import Client, ua
from asyncua.crypto.security_policies import (
    SecurityPolicyAes256Sha256RsaPss,
    SecurityPolicyBasic256Sha256,
)
from asyncua.ua.uaerrors import (
    BadCertificateUntrusted,
    BadIdentityTokenRejected,
    BadUserAccessDenied,
    UaError,
)

from agent.errors import UsageError
from plant.server import DemoPlantServer, ServerSecurity, make_self_signed_certificate
from plant.server.uatypes import plant_id

from .plant_testing import sim_settings_for_tests

pytestmark = pytest.mark.asyncio(loop_scope="module")

USERS = {"operator": "s3cret-pass"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("pki")
    server_cert, server_key = make_self_signed_certificate(base / "server")
    client_cert, client_key = make_self_signed_certificate(
        base / "client",
        name="plantagent-test-client",
        application_uri="urn:plantagent:test-client",
        client=True,
    )
    return {
        "server_cert": server_cert,
        "server_key": server_key,
        "client_cert": client_cert,
        "client_key": client_key,
    }


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def secure_plant(pki: dict[str, Path]) -> AsyncIterator[DemoPlantServer]:
    security = ServerSecurity.secure(
        pki["server_cert"],
        pki["server_key"],
        users=USERS,
        trusted_client_certificates=(pki["client_cert"],),
    )
    async with DemoPlantServer(sim_settings_for_tests(history_hours=0.05), security=security) as s:
        yield s


def secure_client(plant: DemoPlantServer, user: str | None, password: str | None) -> Client:
    client = Client(plant.endpoint, timeout=10)
    client.session_timeout = 60_000
    client.application_uri = "urn:plantagent:test-client"
    if user is not None:
        client.set_user(user)
    if password is not None:
        client.set_password(password)
    return client


@pytest.mark.parametrize(
    "policy",
    [SecurityPolicyBasic256Sha256, SecurityPolicyAes256Sha256RsaPss],
    ids=["Basic256Sha256", "Aes256_Sha256_RsaPss"],
)
async def test_sign_and_encrypt_with_username_reads_values(
    secure_plant: DemoPlantServer, pki: dict[str, Path], policy: type
) -> None:
    client = secure_client(secure_plant, "operator", USERS["operator"])
    await client.set_security(
        policy,
        str(pki["client_cert"]),
        str(pki["client_key"]),
        server_certificate=str(pki["server_cert"]),
        mode=ua.MessageSecurityMode.SignAndEncrypt,
    )
    async with client:
        ns = await client.get_namespace_index("urn:plantagent:demo-plant")
        value = await client.get_node(plant_id("P-101.FlowRate", ns)).read_value()
        assert 20.0 < value < 40.0


async def test_only_secure_endpoints_are_offered(secure_plant: DemoPlantServer) -> None:
    client = Client(secure_plant.endpoint, timeout=10)
    endpoints = await client.connect_and_get_server_endpoints()
    assert {e.SecurityMode for e in endpoints} == {ua.MessageSecurityMode.SignAndEncrypt}
    assert {e.SecurityPolicyUri.rsplit("#", 1)[1] for e in endpoints} == {
        "Basic256Sha256",
        "Aes256_Sha256_RsaPss",
    }
    assert all(e.EndpointUrl == secure_plant.endpoint for e in endpoints)


@pytest.mark.parametrize(
    ("user", "password", "refusal"),
    [("operator", "wrong", BadUserAccessDenied), (None, None, BadIdentityTokenRejected)],
    ids=["wrong-password", "anonymous"],
)
async def test_wrong_password_or_anonymous_is_refused(
    secure_plant: DemoPlantServer,
    pki: dict[str, Path],
    user: str | None,
    password: str | None,
    refusal: type[UaError],
) -> None:
    client = secure_client(secure_plant, user, password)
    await client.set_security(
        SecurityPolicyBasic256Sha256,
        str(pki["client_cert"]),
        str(pki["client_key"]),
        server_certificate=str(pki["server_cert"]),
        mode=ua.MessageSecurityMode.SignAndEncrypt,
    )
    with pytest.raises(refusal):
        async with client:
            pass


async def test_untrusted_client_certificate_is_refused(
    secure_plant: DemoPlantServer, tmp_path: Path, pki: dict[str, Path]
) -> None:
    cert, key = make_self_signed_certificate(
        tmp_path, name="stranger", application_uri="urn:plantagent:test-client", client=True
    )
    client = secure_client(secure_plant, "operator", USERS["operator"])
    await client.set_security(
        SecurityPolicyBasic256Sha256,
        str(cert),
        str(key),
        server_certificate=str(pki["server_cert"]),
        mode=ua.MessageSecurityMode.SignAndEncrypt,
    )
    with pytest.raises(BadCertificateUntrusted):
        async with client:
            pass


async def test_secure_policy_without_certificate_is_a_usage_error() -> None:
    security = ServerSecurity(policies=("Basic256Sha256_SignAndEncrypt",))
    with pytest.raises(UsageError, match="certificate"):
        async with DemoPlantServer(sim_settings_for_tests(history_hours=0.0), security=security):
            pass
