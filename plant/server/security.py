"""Security options of the demo plant server: certificates, policies, users.

The default is an open (security None) loopback server for demos and most tests. Tests of
the OPC UA client can start it with a certificate, only SignAndEncrypt policies and a
username/password user manager.
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from asyncua import ua
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.user_managers import UserManager

if TYPE_CHECKING:
    from asyncua.server.internal_server import InternalServer

PolicyName = Literal[
    "None",
    "Basic256Sha256_Sign",
    "Basic256Sha256_SignAndEncrypt",
    "Aes256_Sha256_RsaPss_Sign",
    "Aes256_Sha256_RsaPss_SignAndEncrypt",
]

POLICY_TYPES: dict[str, ua.SecurityPolicyType] = {
    "None": ua.SecurityPolicyType.NoSecurity,
    "Basic256Sha256_Sign": ua.SecurityPolicyType.Basic256Sha256_Sign,
    "Basic256Sha256_SignAndEncrypt": ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
    "Aes256_Sha256_RsaPss_Sign": ua.SecurityPolicyType.Aes256Sha256RsaPss_Sign,
    "Aes256_Sha256_RsaPss_SignAndEncrypt": ua.SecurityPolicyType.Aes256Sha256RsaPss_SignAndEncrypt,
}

#: Application URI of the server; it is also the URI in the certificate we generate.
SERVER_APPLICATION_URI = "urn:plantagent:demo-plant:server"


@dataclass(frozen=True)
class ServerSecurity:
    """How the server protects its endpoints.

    ``policies``: endpoints offered (anything but "None" needs certificate and key).
    ``users``: username -> password; when given, username login is offered and anonymous
    login only if ``allow_anonymous``. ``trusted_client_certificates``: if given, only
    these client certificates may open a secure channel.
    """

    policies: tuple[PolicyName, ...] = ("None",)
    certificate: Path | None = None
    private_key: Path | None = None
    users: Mapping[str, str] | None = None
    allow_anonymous: bool = True
    trusted_client_certificates: tuple[Path, ...] | None = None

    @classmethod
    def secure(
        cls,
        certificate: Path,
        private_key: Path,
        *,
        users: Mapping[str, str] | None = None,
        trusted_client_certificates: tuple[Path, ...] | None = None,
    ) -> ServerSecurity:
        """Only Basic256Sha256 and Aes256_Sha256_RsaPss with SignAndEncrypt; no anonymous
        login when users are given."""
        return cls(
            policies=("Basic256Sha256_SignAndEncrypt", "Aes256_Sha256_RsaPss_SignAndEncrypt"),
            certificate=certificate,
            private_key=private_key,
            users=users,
            allow_anonymous=users is None,
            trusted_client_certificates=trusted_client_certificates,
        )

    def needs_certificate(self) -> bool:
        """Whether any offered policy needs the server certificate."""
        return any(p != "None" for p in self.policies)


class PasswordUserManager(UserManager):
    """asyncua user manager checking username/password against a fixed table."""

    def __init__(self, users: Mapping[str, str], allow_anonymous: bool) -> None:
        self._users = dict(users)
        self._allow_anonymous = allow_anonymous

    def get_user(
        self,
        iserver: InternalServer,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        """The user for these credentials, or None to refuse the session."""
        if username is None:
            return User(role=UserRole.User) if self._allow_anonymous else None
        expected = self._users.get(username)
        if expected is None or password is None:
            return None
        # Constant-time compare: the demo still should not teach timing leaks.
        if not hmac.compare_digest(expected.encode(), password.encode()):
            return None
        return User(role=UserRole.User, name=username)


def make_self_signed_certificate(
    directory: Path,
    *,
    name: str = "plantagent-demo-plant",
    application_uri: str = SERVER_APPLICATION_URI,
    client: bool = False,
) -> tuple[Path, Path]:
    """Write a self-signed OPC UA application certificate (DER) and key (PEM) into
    ``directory``; return (certificate, key). For tests and demos only.
    """
    from asyncua.crypto.cert_gen import (
        dump_private_key_as_pem,
        generate_private_key,
        generate_self_signed_app_certificate,
    )
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import ExtendedKeyUsageOID

    directory.mkdir(parents=True, exist_ok=True)
    key = generate_private_key()
    usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
    cert = generate_self_signed_app_certificate(
        key,
        name,
        {"organizationName": "plantagent"},
        [
            x509.UniformResourceIdentifier(application_uri),
            x509.DNSName("localhost"),
            x509.DNSName(socket.gethostname()),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ],
        extended=[usage],
    )
    cert_path = directory / f"{name}.der"
    key_path = directory / f"{name}.pem"
    cert_path.write_bytes(cert.public_bytes(Encoding.DER))
    key_path.write_bytes(dump_private_key_as_pem(key))
    key_path.chmod(0o600)
    return cert_path, key_path
