"""Client identity and server trust for OPC UA.

The client certificate is generated once per site (self-signed, the application URI in
its SubjectAltName as OPC UA Part 6 requires) and kept under ``<home>/pki``. Its private
key never touches the disk in clear: it is sealed in the site's encrypted blob store
(a vault key) and decrypted in memory when a secure connection is made; a plain
``pki/client_key.pem`` left by an older plantagent is moved into the store and erased.
The server certificate is never learned on the fly: it is trusted explicitly through
``opcua.server_certificate``, and a server presenting any other one is refused.

A key file configured in ``opcua.client_private_key`` is the administrator's own and is
used where it is (keep it owner-only).
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from agent.errors import OpcUaSecurityError
from agent.settings import OpcUaSettings

#: The application URI of plantagent as an OPC UA client; it is in the certificate's SAN.
CLIENT_APPLICATION_URI = "urn:plantagent:client"
CERT_FILE = "client_cert.der"
#: Where older plantagent versions kept the key in clear (moved into the store now).
KEY_FILE = "client_key.pem"
#: The site blob holding the client's private key (PKCS#8 DER), encrypted by the vault.
KEY_BLOB = "opcua/client-private-key"
CERT_VALID_DAYS = 3 * 365

SECURITY_POLICY_URIS = {
    "None": "http://opcfoundation.org/UA/SecurityPolicy#None",
    "Basic256Sha256": "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256",
    "Aes256_Sha256_RsaPss": "http://opcfoundation.org/UA/SecurityPolicy#Aes256_Sha256_RsaPss",
}


class KeyVault(Protocol):
    """Where the site keeps secrets encrypted (an open ``agent.vault.Site``)."""

    def get_blob(self, name: str) -> bytes | None:
        """The secret ``name`` decrypted, or None."""
        ...

    def put_blob(self, name: str, data: bytes) -> None:
        """Store the secret ``name`` encrypted."""
        ...


@dataclass(frozen=True)
class ClientIdentity:
    """The client certificate (a file) and its private key (a file the administrator
    configured, or the site's own key as PKCS#8 DER bytes, decrypted in memory)."""

    certificate: Path
    private_key: Path | bytes = field(repr=False)


def _write_private(path: Path, data: bytes) -> None:
    # Created with owner-only permissions from the start.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


def generate_client_certificate(
    pki_dir: Path, vault: KeyVault, application_uri: str = CLIENT_APPLICATION_URI, *,
    days: int = CERT_VALID_DAYS,
) -> ClientIdentity:
    """Create a self-signed client certificate under ``pki_dir`` (0700) and its key in
    ``vault`` (encrypted; never written in clear). Blocking."""
    pki_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(pki_dir, 0o700)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    host = socket.gethostname()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "plantagent client"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "plantagent"),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.UniformResourceIdentifier(application_uri),
                    x509.DNSName(host),
                    x509.DNSName("localhost"),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=True,
                data_encipherment=True,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    vault.put_blob(KEY_BLOB, der)
    _write_private(pki_dir / CERT_FILE, cert.public_bytes(serialization.Encoding.DER))
    return ClientIdentity(pki_dir / CERT_FILE, der)


def _certificate_usable(path: Path, application_uri: str) -> bool:
    try:
        cert = load_certificate(path)
    except OpcUaSecurityError:
        return False
    if cert.not_valid_after_utc < datetime.now(UTC) + timedelta(days=1):
        return False
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return False
    return application_uri in san.value.get_values_for_type(x509.UniformResourceIdentifier)


async def ensure_client_identity(
    settings: OpcUaSettings, pki_dir: Path, vault: KeyVault | None,
    application_uri: str = CLIENT_APPLICATION_URI,
) -> ClientIdentity:
    """The configured client certificate, or the site's own (generated when missing or
    expired), its key decrypted from ``vault`` in memory."""
    if settings.client_certificate is not None:
        if settings.client_private_key is None:
            raise OpcUaSecurityError(
                "opcua.client_certificate is set but opcua.client_private_key is not",
                fix="set opcua.client_private_key to the key of that certificate",
            )
        return ClientIdentity(settings.client_certificate, settings.client_private_key)
    if vault is None:
        raise OpcUaSecurityError(
            "the site's OPC UA client key is kept encrypted in the site, and no site is open",
            fix="connect through the site (plantagent commands do), or configure "
            "opcua.client_certificate and opcua.client_private_key",
        )
    # Decrypting, moving an old key and generating a new one touch the disk (and RSA key
    # generation takes a noticeable fraction of a second): keep them off the loop.
    return await asyncio.to_thread(_site_identity, pki_dir, vault, application_uri)


def _site_identity(pki_dir: Path, vault: KeyVault, application_uri: str) -> ClientIdentity:
    cert = pki_dir / CERT_FILE
    der = vault.get_blob(KEY_BLOB)
    if der is None:
        der = _move_plain_key(pki_dir / KEY_FILE, vault)
    if der is not None and _certificate_usable(cert, application_uri):
        return ClientIdentity(cert, der)
    return generate_client_certificate(pki_dir, vault, application_uri)


def _move_plain_key(path: Path, vault: KeyVault) -> bytes | None:
    """Seal a key an older plantagent kept in clear, then overwrite and remove the file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None  # not a key we made: leave it, a new identity is generated
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    vault.put_blob(KEY_BLOB, der)
    with path.open("r+b") as handle:  # the clear copy: overwritten before it is unlinked
        handle.write(b"\0" * len(data))
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()
    return der


def load_certificate(path: Path) -> x509.Certificate:
    """A certificate file in DER or PEM; OpcUaSecurityError naming the file otherwise."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OpcUaSecurityError(
            f"cannot read the certificate {path}: {exc.strerror}",
            fix="set opcua.server_certificate to the server's certificate file (DER or PEM)",
        ) from None
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise OpcUaSecurityError(
            f"{path} is not a DER or PEM certificate ({exc})",
            fix="export the server's application instance certificate and point to it",
        ) from None


def trusted_server_certificate_der(settings: OpcUaSettings) -> bytes:
    """The DER bytes of the explicitly trusted server certificate (secure policies only)."""
    if settings.server_certificate is None:
        raise OpcUaSecurityError(
            f"security policy {settings.security_policy} needs a trusted server certificate",
            fix="set opcua.server_certificate to the server's certificate file; plantagent "
            "never trusts a server certificate it was not given",
        )
    cert = load_certificate(settings.server_certificate)
    return cert.public_bytes(serialization.Encoding.DER)


def check_security_settings(settings: OpcUaSettings, endpoint: str) -> None:
    """Refuse combinations that would silently run without protection."""
    host = urlparse(endpoint).hostname or ""
    if settings.security_policy == "None" and settings.username and not _is_loopback(host):
        raise OpcUaSecurityError(
            f"a password would cross the network to {host} without encryption",
            fix="set opcua.security_policy to Basic256Sha256 and security_mode to SignAndEncrypt",
        )
    if settings.security_policy == "None" and settings.security_mode != "None":
        raise OpcUaSecurityError(
            f"security mode {settings.security_mode} needs a security policy",
            fix="set opcua.security_policy to Basic256Sha256 or Aes256_Sha256_RsaPss",
        )
    if settings.security_policy != "None" and settings.security_mode == "None":
        raise OpcUaSecurityError(
            f"security policy {settings.security_policy} with mode None sends in clear",
            fix="set opcua.security_mode to SignAndEncrypt",
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def certificate_fingerprint(der: bytes) -> str:
    """Short SHA-256 fingerprint of a DER certificate, for error messages."""
    digest = hashes.Hash(hashes.SHA256())
    digest.update(der)
    return digest.finalize().hex()[:16]
