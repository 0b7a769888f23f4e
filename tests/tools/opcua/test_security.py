"""Basic256Sha256 SignAndEncrypt with an explicitly trusted server certificate, username login,
and the client certificate kept owner-only under the site directory."""

from __future__ import annotations

import socket
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from asyncua.crypto.cert_gen import setup_self_signed_certificate
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from agent.errors import OpcUaSecurityError
from tools.opcua.browse import browse_catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.security import (
    CLIENT_APPLICATION_URI,
    check_security_settings,
    generate_client_certificate,
)

from .opcua_helpers import make_settings
from .uatestserver import PasswordUsers, PlantHandle, start_plant

pytestmark = pytest.mark.asyncio(loop_scope="module")

SECURE = {"security_policy": "Basic256Sha256", "security_mode": "SignAndEncrypt"}


async def server_identity(directory: Path) -> tuple[Path, Path]:
    """A server certificate and key, as a plant server's administrator would have."""
    directory.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240  (a test helper)
    cert, key = directory / "server_cert.der", directory / "server_key.pem"
    await setup_self_signed_certificate(
        key,
        cert,
        "urn:example:test-works:server",
        socket.gethostname(),
        [ExtendedKeyUsageOID.SERVER_AUTH],
        {},
    )
    return cert, key


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def secure_plant(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[PlantHandle]:
    cert, key = await server_identity(tmp_path_factory.mktemp("server_pki"))
    plant = await start_plant(security=(cert, key), users=PasswordUsers("shiftlead", "s3cret"))
    plant.certificate = cert  # type: ignore[attr-defined]
    yield plant
    await plant.stop()


@pytest.mark.parametrize("policy", ["Basic256Sha256", "Aes256_Sha256_RsaPss"])
async def test_sign_and_encrypt_with_the_trusted_certificate_and_login(
    secure_plant: PlantHandle, tmp_path: Path, policy: str
) -> None:
    settings = make_settings(
        tmp_path,
        secure_plant.endpoint,
        server_certificate=secure_plant.certificate,  # type: ignore[attr-defined]
        username="shiftlead",
        password="s3cret",
        security_policy=policy,
        security_mode="SignAndEncrypt",
    )
    async with OpcUaConnection.from_settings(settings) as conn:
        catalog = await browse_catalog(conn)
    assert "PU-1.FlowRate" in catalog.tags
    # The client identity was generated into the site, owner-only.
    pki = tmp_path / "pki"
    assert stat.S_IMODE(pki.stat().st_mode) == 0o700
    assert stat.S_IMODE((pki / "client_key.pem").stat().st_mode) == 0o600


async def test_wrong_password_is_refused(secure_plant: PlantHandle, tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        secure_plant.endpoint,
        server_certificate=secure_plant.certificate,  # type: ignore[attr-defined]
        username="shiftlead",
        password="guess",
        **SECURE,
    )
    conn = OpcUaConnection.from_settings(settings)
    with pytest.raises(OpcUaSecurityError) as err:
        await conn.connect()
    assert "refused" in err.value.message and "username" in (err.value.fix or "")
    await conn.close()


async def test_a_server_with_another_certificate_is_refused(
    secure_plant: PlantHandle, tmp_path: Path
) -> None:
    other_cert, _ = await server_identity(tmp_path / "other")  # what we were told to trust
    settings = make_settings(
        tmp_path,
        secure_plant.endpoint,
        server_certificate=other_cert,
        username="shiftlead",
        password="s3cret",
        **SECURE,
    )
    conn = OpcUaConnection.from_settings(settings)
    with pytest.raises(OpcUaSecurityError) as err:
        await conn.connect()
    assert "presented certificate" in err.value.message
    assert "opcua.server_certificate" in (err.value.fix or "")
    await conn.close()


async def test_secure_policy_without_a_trusted_certificate_is_refused(
    secure_plant: PlantHandle, tmp_path: Path
) -> None:
    conn = OpcUaConnection.from_settings(make_settings(tmp_path, secure_plant.endpoint, **SECURE))
    with pytest.raises(OpcUaSecurityError) as err:
        await conn.connect()
    assert "opcua.server_certificate" in (err.value.fix or "")
    await conn.close()


async def test_generated_client_certificate_names_the_application_uri(tmp_path: Path) -> None:
    identity = generate_client_certificate(tmp_path / "pki")
    cert = x509.load_der_x509_certificate(identity.certificate.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert CLIENT_APPLICATION_URI in san.get_values_for_type(x509.UniformResourceIdentifier)
    assert stat.S_IMODE(identity.private_key.stat().st_mode) == 0o600


async def test_password_in_clear_is_refused_off_loopback() -> None:
    # A pure check, made before any socket is opened (no connection is attempted here).
    unsafe = make_settings(Path("/nonexistent"), "opc.tcp://plant.example:4840/", username="op")
    with pytest.raises(OpcUaSecurityError) as err:
        check_security_settings(unsafe.opcua, unsafe.opcua.endpoint)
    assert "SignAndEncrypt" in (err.value.fix or "")
    local = make_settings(Path("/nonexistent"), "opc.tcp://127.0.0.1:4840/", username="op")
    check_security_settings(local.opcua, local.opcua.endpoint)  # loopback demos are fine


async def test_an_unsecured_client_is_refused_by_a_secure_only_server(
    secure_plant: PlantHandle, tmp_path: Path
) -> None:
    conn = OpcUaConnection.from_settings(make_settings(tmp_path, secure_plant.endpoint))
    with pytest.raises(OpcUaSecurityError) as err:
        await conn.connect()
    assert "SecurityPolicy#None" in err.value.message
    assert "security_policy" in (err.value.fix or "")
    await conn.close()
