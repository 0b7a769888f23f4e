"""The external witness: every signed checkpoint also goes, as it is made, somewhere the
site's own files do not reach, and `audit verify --witness` checks the log against it.

Someone who holds every file of the site (and its keys) can roll the database and the
checkpoint export directory back together; they cannot take back what a witness on
another machine or mount already holds. Two kinds, named by ``audit.witness``:

- ``syslog+tls://HOST:PORT``: a syslog collector over TLS (RFC 5425 octet-counted
  frames of RFC 5424 messages; facility 13 "log audit", severity informational). The
  message is ``plantagent-checkpoint <base64>``: the checkpoint's exported bytes,
  opaque to the collector. The collector's certificate is checked against
  ``audit.witness_ca`` (or the system's trust store) and its host name.
- ``dir:///PATH`` (or an absolute path): write-once files in a directory on another
  mount (an NFS or SMB share owned by another account, a WORM volume).

Sending never blocks an append for long and never makes it fail: what could not be sent
is sent with the next checkpoint (a cursor beside the exported checkpoints says how far
the witness got), and ``audit verify`` says how many are still unsent. The address must
be inside the site's network allowlist (the egress guard refuses anything else).

Reading back: a witness directory, or the collector's log file (any line holding
``plantagent-checkpoint <base64>``, whatever the collector put before it).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import logging
import os
import socket
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from agent.audit.checkpoints import FILE_PREFIX, Checkpoint, parse_checkpoint_bytes
from agent.errors import ConfigError, UsageError
from agent.vault.fsutil import atomic_write, create_new

log = logging.getLogger(__name__)

MARKER = "plantagent-checkpoint"
#: RFC 5424 PRI: facility 13 (log audit) * 8 + severity 6 (informational).
PRI = 13 * 8 + 6
#: SD-ID of the structured data; 32473 is the enterprise number RFC 5612 reserves for
#: documentation (plantagent has none of its own).
SD_ID = "plantagent@32473"
APP_NAME = "plantagent"


class WitnessError(Exception):
    """The witness could not take the checkpoints (they are sent again next time)."""


class Witness(Protocol):
    """Somewhere checkpoints are kept outside the site."""

    url: str

    def send(self, items: list[tuple[Checkpoint, bytes]]) -> None:
        """Hand over checkpoints (with their exported bytes), oldest first."""
        ...


@dataclass
class DirectoryWitness:
    """Write-once files in a directory on another mount."""

    directory: Path
    url: str = ""

    def send(self, items: list[tuple[Checkpoint, bytes]]) -> None:
        """Write each checkpoint once (an existing file of the same name is left as is:
        verify compares what it holds)."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for checkpoint, data in items:
                path = self.directory / f"{checkpoint.log_id}-{checkpoint.tree_size:012d}.json"
                with contextlib.suppress(FileExistsError):
                    create_new(path, data, mode=0o444)
        except OSError as exc:
            raise WitnessError(f"cannot write to the witness directory {self.directory}: "
                               f"{exc.strerror or exc}") from exc


@dataclass
class SyslogWitness:
    """A syslog collector over TLS (RFC 5424 messages, RFC 5425 transport)."""

    host: str
    port: int
    url: str = ""
    ca_file: Path | None = None
    server_name: str | None = None
    timeout_s: float = 3.0
    site_id: str = "-"
    _context: ssl.SSLContext | None = field(default=None, repr=False)

    def context(self) -> ssl.SSLContext:
        """TLS 1.2+ with the collector's certificate and host name checked."""
        if self._context is None:
            context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file
                                                 else None)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            self._context = context
        return self._context

    def send(self, items: list[tuple[Checkpoint, bytes]]) -> None:
        """One TLS connection, one octet-counted frame per checkpoint."""
        frames = b"".join(frame(message(cp, data, self.site_id)) for cp, data in items)
        try:
            with socket.create_connection((self.host, self.port), self.timeout_s) as raw, \
                    self.context().wrap_socket(
                        raw, server_hostname=self.server_name or self.host) as tls:
                tls.sendall(frames)
                tls.shutdown(socket.SHUT_WR)
        except (OSError, ssl.SSLError) as exc:
            raise WitnessError(f"the syslog witness {self.url} did not take the "
                               f"checkpoints: {exc}") from exc


def message(checkpoint: Checkpoint, data: bytes, site_id: str = "-") -> bytes:
    """The RFC 5424 message of one checkpoint."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    host = socket.gethostname() or "-"
    sd = (f'[{SD_ID} site="{site_id}" log="{checkpoint.log_id}" '
          f'size="{checkpoint.tree_size}"]')
    body = f"{MARKER} {base64.b64encode(data).decode('ascii')}"
    return (f"<{PRI}>1 {stamp} {host[:255]} {APP_NAME} {os.getpid()} checkpoint {sd} "
            f"{body}").encode()


def frame(msg: bytes) -> bytes:
    """RFC 5425 octet counting: ``MSG-LEN SP SYSLOG-MSG``."""
    return f"{len(msg)} ".encode("ascii") + msg


def witness_from_url(url: str, *, ca_file: Path | None = None, timeout_s: float = 3.0,
                     site_id: str = "-") -> Witness:
    """The witness ``url`` names; ConfigError naming the fix when it is not one."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme == "syslog+tls":
        if not parts.hostname or not parts.port:
            raise ConfigError(f"audit.witness {url!r} names no host and port",
                              fix="write it as syslog+tls://collector.example:6514")
        return SyslogWitness(parts.hostname, parts.port, url=text, ca_file=ca_file,
                             timeout_s=timeout_s, site_id=site_id)
    if parts.scheme == "dir" or (not parts.scheme and text.startswith("/")):
        directory = Path(parts.path if parts.scheme else text)
        if not directory.is_absolute():
            raise ConfigError(f"audit.witness {url!r} is not an absolute directory",
                              fix="write it as dir:///mnt/witness/plantagent")
        return DirectoryWitness(directory, url=text)
    raise ConfigError(
        f"audit.witness {url!r} is neither a syslog TLS collector nor a directory",
        fix="use syslog+tls://HOST:6514 or dir:///PATH (a directory on another mount)")


class WitnessSender:
    """Sends the exported checkpoints the witness does not have yet, in order.

    The cursor (``.witness-<hash of url>``, in the export directory) holds the largest
    tree size the witness took; everything above it is sent with the next checkpoint.
    """

    def __init__(self, witness: Witness, export_dir: Path) -> None:
        self.witness = witness
        self.export_dir = export_dir
        tag = hashlib.sha256(witness.url.encode()).hexdigest()[:12]
        self.cursor_path = export_dir / f".witness-{tag}"
        self.last_error: str | None = None
        self._lock = threading.Lock()
        self._state = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False

    def sent_size(self) -> int:
        """The largest tree size the witness took (0: none yet)."""
        try:
            return int(self.cursor_path.read_text(encoding="ascii").split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return 0

    def pending(self) -> list[tuple[Checkpoint, bytes]]:
        """Exported checkpoints above the cursor, smallest first."""
        sent = self.sent_size()
        items = []
        for path in sorted(self.export_dir.glob(f"{FILE_PREFIX}*.json")):
            try:
                data = path.read_bytes()
                checkpoint = parse_checkpoint_bytes(data)
            except (OSError, ValueError):
                continue  # verify reports a file it cannot read
            if checkpoint.tree_size > sent:
                items.append((checkpoint, data))
        return items

    def notify(self) -> None:
        """A checkpoint was exported: send it in the background (an append never waits
        for the witness)."""
        with self._state:
            if self._thread is not None:
                self._again = True
                return
            self._thread = threading.Thread(target=self._run, name="audit-witness",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            self.catch_up()
            with self._state:
                if not self._again:
                    self._thread = None
                    return
                self._again = False

    def flush(self) -> int:
        """Wait for a send under way, then send what is still pending (at close)."""
        with self._state:
            thread = self._thread
        if thread is not None:
            thread.join()
        return self.catch_up()

    def catch_up(self) -> int:
        """Send what is pending; returns how many were sent (0 when the witness is away:
        the error is kept in ``last_error`` and logged, never raised)."""
        with self._lock:
            items = self.pending()
            if not items:
                return 0
            try:
                self.witness.send(items)
            except WitnessError as exc:
                self.last_error = str(exc)
                log.warning("%s (they are sent again with the next checkpoint)", exc)
                return 0
            self.last_error = None
            size = max(cp.tree_size for cp, _ in items)
            atomic_write(self.cursor_path, f"{size} {self.witness.url}\n".encode(), mode=0o600)
            return len(items)


# -- reading a witness back ----------------------------------------------------------------


def read_witness(where: Path) -> tuple[list[tuple[str, Checkpoint]], list[str]]:
    """The checkpoints a witness holds (a directory, or a syslog collector's file), named
    by where they were found; and what could not be read."""
    if where.is_dir():
        found, bad = [], []
        for path in sorted(where.glob("*.json")):
            try:
                found.append((f"witness {path.name}", parse_checkpoint_bytes(path.read_bytes())))
            except (OSError, ValueError):
                bad.append(f"the witness file {path} is not a checkpoint")
        return found, bad
    if not where.is_file():
        raise UsageError(f"no witness at {where}",
                         fix="give the witness directory, or the syslog collector's file")
    found, bad = [], []
    with where.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            text = line.decode("utf-8", "replace")
            at = text.find(MARKER + " ")
            if at < 0:
                continue
            encoded = text[at + len(MARKER) + 1:].split()[0] if text[at:].split()[1:] else ""
            try:
                found.append((f"witness {where.name}:{number}",
                              parse_checkpoint_bytes(base64.b64decode(encoded, validate=True))))
            except (ValueError, binascii.Error):
                bad.append(f"line {number} of {where} holds a damaged checkpoint")
    return found, bad
