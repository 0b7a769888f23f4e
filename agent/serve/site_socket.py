"""Where the site service listens and the lock that makes it the only one: both under the
site directory, so one site has one service whatever account starts it.

The lock is an ``flock`` on ``service.lock`` (released by the kernel when the process
dies, so a crash never leaves it held); the socket is ``service.sock``. A socket file
found at start with no service behind it (connect refused: a crash left it) is replaced.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import grp
import os
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

from agent.errors import ServiceError, UsageError

SOCKET_NAME = "service.sock"
LOCK_NAME = "service.lock"
#: Unix socket paths are limited to 107 bytes by the kernel.
MAX_SOCKET_PATH = 107


def socket_path(home: Path) -> Path:
    """The service's socket of the site at ``home``."""
    return home / SOCKET_NAME


@dataclass
class SiteLock:
    """The held lock of one site's service; :meth:`release` on the way out."""

    path: Path
    fd: int

    def release(self) -> None:
        """Let another service take the site."""
        with contextlib.suppress(OSError):
            os.close(self.fd)


def lock_site(home: Path) -> SiteLock:
    """Take the site's service lock, or ServiceError naming the service holding it."""
    path = home / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise ServiceError(
            f"another plantagent service already serves the site {home} (pid {holder})",
            fix="use that one (plantagent status), or stop it first (systemctl stop "
            "plantagent)") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return SiteLock(path, fd)


def listen(path: Path, *, group: str | None = None) -> socket.socket:
    """A listening Unix socket at ``path``, mode 0660 (group ``group`` when given). A
    socket file with nothing behind it is a crash's leftover and is replaced; one with a
    live service behind it is refused."""
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise UsageError(f"the socket path {path} is longer than {MAX_SOCKET_PATH} bytes",
                         fix="give the site a shorter directory (or --socket PATH)")
    gid = _group_id(group) if group else None
    if path.exists() or path.is_symlink():
        if not path.is_socket():
            raise ServiceError(f"{path} exists and is not a socket",
                               fix="move that file away; the service makes its socket there")
        if _alive(path):
            raise ServiceError(f"a service already answers on {path}",
                               fix="use it, or stop it first (systemctl stop plantagent)")
        path.unlink()  # a crash's leftover: nobody listens
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o117)  # never world-reachable, even for the moment before chmod
    try:
        server.bind(os.fspath(path))
    finally:
        os.umask(old)
    os.chmod(path, 0o660)
    if gid is not None:
        os.chown(path, -1, gid)
    server.listen(64)
    server.setblocking(False)
    return server


def _alive(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(os.fspath(path))
    except OSError as exc:
        if exc.errno in (errno.ECONNREFUSED, errno.ENOENT):
            return False
        raise
    finally:
        probe.close()
    return True


def _group_id(name: str) -> int:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise UsageError(f"there is no group {name!r}",
                         fix=f"create it (groupadd {name}) and add the shift leads' "
                         "accounts to it, or give another --group") from None


def peer_uid(conn: socket.socket) -> int:
    """The uid of the process at the other end, from the kernel (SO_PEERCRED)."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)
