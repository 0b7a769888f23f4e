"""Basic256Sha256 SignAndEncrypt with an explicitly trusted server certificate, username login,
and the client certificate kept owner-only under the site directory."""

from __future__ import annotations

import socket
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from asyncua.crypto.cert_gen import setup_self_signed_certificate
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from agent.errors import OpcUaSecurityError
from agent.vault import Site, open_site
from tests.support.sites import new_site
from tools.opcua.browse import browse_catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.security import (
    CLIENT_APPLICATION_URI,
    KEY_BLOB,
    check_security_settings,
    ensure_client_identity,
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


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[Site]:
    """A real site whose encrypted store keeps the client's private key."""
    with open_site(new_site(tmp_path / "vault-site")) as site:
        yield site


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
    site_dir = new_site(tmp_path / "site")
    with open_site(site_dir) as site:
        async with OpcUaConnection.from_settings(settings, key_vault=site) as conn:
            catalog = await browse_catalog(conn)
        key = site.get_blob(KEY_BLOB)
    assert "PU-1.FlowRate" in catalog.tags
    # The client certificate was generated into the site (owner-only); its private key
    # only into the site's encrypted store: no file holds it in clear.
    pki = tmp_path / "pki"
    assert stat.S_IMODE(pki.stat().st_mode) == 0o700
    assert sorted(p.name for p in pki.iterdir()) == ["client_cert.der"]
    assert key is not None and serialization.load_der_private_key(key, None)
    assert not any(key[-64:] in f.read_bytes() for f in site_dir.rglob("*") if f.is_file())


async def test_wrong_password_is_refused(secure_plant: PlantHandle, tmp_path: Path,
                                         vault: Site) -> None:
    settings = make_settings(
        tmp_path,
        secure_plant.endpoint,
        server_certificate=secure_plant.certificate,  # type: ignore[attr-defined]
        username="shiftlead",
        password="guess",
        **SECURE,
    )
    conn = OpcUaConnection.from_settings(settings, key_vault=vault)
    with pytest.raises(OpcUaSecurityError) as err:
        await conn.connect()
    assert "refused" in err.value.message and "username" in (err.value.fix or "")
    await conn.close()


async def test_a_server_with_another_certificate_is_refused(
    secure_plant: PlantHandle, tmp_path: Path, vault: Site
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
    conn = OpcUaConnection.from_settings(settings, key_vault=vault)
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
    with open_site(new_site(tmp_path / "site")) as site:
        identity = generate_client_certificate(tmp_path / "pki", site)
        assert site.get_blob(KEY_BLOB) == identity.private_key
    cert = x509.load_der_x509_certificate(identity.certificate.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert CLIENT_APPLICATION_URI in san.get_values_for_type(x509.UniformResourceIdentifier)


async def test_a_key_left_in_clear_by_an_older_version_is_sealed_and_erased(
    tmp_path: Path,
) -> None:
    pki = tmp_path / "pki"
    # The layout an older plantagent left: the certificate and its key in clear beside it.
    with open_site(new_site(tmp_path / "old")) as old:
        made = generate_client_certificate(pki, old)
    assert isinstance(made.private_key, bytes)
    key = serialization.load_der_private_key(made.private_key, None)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    (pki / "client_key.pem").write_bytes(pem)
    settings = make_settings(tmp_path, "opc.tcp://127.0.0.1:4840/")
    with open_site(new_site(tmp_path / "site")) as site:
        identity = await ensure_client_identity(settings.opcua, pki, site)
        stored = site.get_blob(KEY_BLOB)
    assert not (pki / "client_key.pem").exists()
    assert stored == identity.private_key == made.private_key  # the same key, now sealed


async def test_without_a_site_the_own_key_is_never_written_in_clear(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "opc.tcp://127.0.0.1:4840/")
    with pytest.raises(OpcUaSecurityError, match="encrypted in the site"):
        await ensure_client_identity(settings.opcua, tmp_path / "pki", None)
    assert not (tmp_path / "pki").exists()


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
