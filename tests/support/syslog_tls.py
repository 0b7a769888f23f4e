"""A syslog collector over TLS on loopback (RFC 5425 octet-counted frames), for tests:
the real stdlib ssl server side, a certificate made for 127.0.0.1 and its CA, every
message written as one line to a file, as a collector would keep them."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from pathlib import Path
from types import TracebackType

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_ca_and_server_cert(directory: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key) PEM files for 127.0.0.1."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test syslog CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(
              digital_signature=True, content_commitment=False, key_encipherment=False,
              data_encipherment=False, key_agreement=False, key_cert_sign=True,
              crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


class SyslogTlsCollector:
    """Accepts TLS connections on 127.0.0.1, reads octet-counted frames, appends each
    message as a line to ``log_file``. Use as a context manager."""

    def __init__(self, directory: Path) -> None:
        self.ca, cert, key = make_ca_and_server_cert(directory)
        self.log_file = directory / "collector.log"
        self.log_file.touch()
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert, key)
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = int(self._sock.getsockname()[1])
        self.messages = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The witness URL of this collector."""
        return f"syslog+tls://127.0.0.1:{self.port}"

    def __enter__(self) -> SyslogTlsCollector:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                with self._context.wrap_socket(raw, server_side=True) as tls:
                    tls.settimeout(5)
                    self._read_frames(tls)
            except (OSError, ssl.SSLError):
                continue  # a client that failed its handshake: keep serving

    def _read_frames(self, tls: ssl.SSLSocket) -> None:
        buffer = b""
        while True:
            chunk = tls.recv(65536)
            if not chunk:
                return
            buffer += chunk
            while b" " in buffer:
                size_text, rest = buffer.split(b" ", 1)
                size = int(size_text)
                if len(rest) < size:
                    break
                message, buffer = rest[:size], rest[size:]
                with self._lock, self.log_file.open("ab") as out:
                    out.write(message + b"\n")
                    self.messages += 1
