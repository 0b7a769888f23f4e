"""The egress guard: the process may only talk to loopback and allowlisted site networks.

It is a ``sys.addaudithook`` hook on the socket audit events (connect, sendto, name
lookups). Audit hooks cannot be removed, so the hook is installed once per process and
holds a replaceable policy: calling :func:`install_egress_guard` again swaps the policy
in place. That process-wide state is the one deliberate global of the vault — the hook
itself is process-wide, so a second, per-object hook would only stack up.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.errors import ConfigError

#: Called with (address, detail) before a refusal is raised; the audit log records it.
RefusalHook = Callable[[str, dict[str, Any]], None]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class EgressRefused(PermissionError):
    """A connection or lookup to an address outside loopback and the allowlist."""

    def __init__(self, address: str, event: str) -> None:
        super().__init__(
            errno.EACCES,
            f"egress refused: {address} is not loopback and not in the network allowlist "
            "(fix: add its network as CIDR to [network] allowlist in plantagent.toml, "
            "if it is an on-site address)",
        )
        self.address = address
        self.event = event


@dataclass(frozen=True)
class EgressPolicy:
    """What the guard allows."""

    networks: tuple[IPNetwork, ...]
    hostnames: frozenset[str]
    allow_loopback: bool = True
    #: The entries the policy was made from, as given (stripped): what `status` shows.
    allowlist: tuple[str, ...] = ()

    @classmethod
    def from_allowlist(cls, allowlist: list[str], *, allow_loopback: bool = True) -> EgressPolicy:
        """Parse CIDRs / addresses (networks) and names (allowed for lookups only)."""
        networks: list[IPNetwork] = []
        names: set[str] = set()
        for entry in allowlist:
            text = entry.strip()
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                if not text or "/" in text or " " in text:
                    raise ConfigError(
                        f"network allowlist entry {entry!r} is neither a CIDR nor a host name",
                        fix="write on-site networks as CIDR, e.g. '10.20.0.0/16', in "
                        "[network] allowlist of plantagent.toml",
                    ) from None
                names.add(text.lower().rstrip("."))
        entries = tuple(entry.strip() for entry in allowlist)
        return cls(tuple(networks), frozenset(names), allow_loopback, entries)

    def allows_ip(self, ip: IPAddress) -> bool:
        """True when ``ip`` is loopback (if allowed) or inside an allowlisted network."""
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if self.allow_loopback and ip.is_loopback:
            return True
        return any(ip.version == net.version and ip in net for net in self.networks)

    def allows_name(self, host: str) -> bool:
        """True when a name may be looked up (loopback names or allowlisted names)."""
        name = host.lower().rstrip(".")
        return (self.allow_loopback and name in _LOOPBACK_NAMES) or name in self.hostnames


def _as_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return None


class EgressGuard:
    """The installed guard; :meth:`update` replaces its policy."""

    def __init__(self, policy: EgressPolicy, on_refusal: RefusalHook | None) -> None:
        self._policy = policy
        self._on_refusal = on_refusal
        self._lock = threading.Lock()
        self.refusals = 0

    @property
    def policy(self) -> EgressPolicy:
        """The policy in force."""
        return self._policy

    @property
    def allowlist(self) -> tuple[str, ...]:
        """The allowlist in force, as installed (loopback is allowed besides it unless
        the policy says otherwise)."""
        return self._policy.allowlist

    @property
    def on_refusal(self) -> RefusalHook | None:
        """Who hears of a refusal before it is raised (the audit log of the site that
        installed the guard)."""
        return self._on_refusal

    def update(
        self,
        allowlist: list[str],
        *,
        on_refusal: RefusalHook | None = None,
        allow_loopback: bool = True,
    ) -> None:
        """Replace the policy (and the refusal hook)."""
        policy = EgressPolicy.from_allowlist(allowlist, allow_loopback=allow_loopback)
        with self._lock:
            self._policy = policy
            self._on_refusal = on_refusal

    def check_host(self, host: str, event: str) -> None:
        """Raise EgressRefused unless ``host`` (address or name) is allowed."""
        policy = self._policy
        ip = _as_ip(host)
        if ip is not None:
            if policy.allows_ip(ip):
                return
        elif policy.allows_name(host):
            if event != "socket.connect":
                return
            # connect() with a name resolves it inside C: check every address it has.
            infos = socket.getaddrinfo(host, None)
            if all(policy.allows_ip(ipaddress.ip_address(str(i[4][0]))) for i in infos):
                return
        self._refuse(host, event)

    def _refuse(self, address: str, event: str) -> None:
        self.refusals += 1
        hook = self._on_refusal
        try:
            if hook is not None:
                hook(address, {"event": event})
        finally:
            # Refuse even if the hook failed: the guard must never fail open.
            raise EgressRefused(address, event)

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if not event.startswith("socket."):
            return
        if event in ("socket.connect", "socket.sendto"):
            sock, address = args[0], args[1]
            if getattr(sock, "family", None) == getattr(socket, "AF_UNIX", object()):
                return
            if isinstance(address, tuple) and address:
                host = address[0]
                self.check_host(host.decode() if isinstance(host, bytes) else str(host), event)
        elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
            host = args[0]
            if host is None:
                return
            self.check_host(host.decode() if isinstance(host, bytes) else str(host), event)
        elif event == "socket.gethostbyaddr":
            self.check_host(str(args[0]), event)


_installed: EgressGuard | None = None
_install_lock = threading.Lock()


def install_egress_guard(
    allowlist: list[str],
    on_refusal: RefusalHook | None = None,
    *,
    allow_loopback: bool = True,
) -> EgressGuard:
    """Install the process-wide egress guard, or replace its policy if already installed.

    ``allowlist`` holds CIDRs or addresses of on-site networks (host names in it may be
    looked up; connecting still needs their addresses allowlisted). ``allow_loopback``
    is False only in tests that need a narrower policy than 127.0.0.0/8.
    """
    global _installed
    policy = EgressPolicy.from_allowlist(allowlist, allow_loopback=allow_loopback)
    with _install_lock:
        if _installed is None:
            _installed = EgressGuard(policy, on_refusal)
            sys.addaudithook(_installed)
        else:
            _installed.update(allowlist, on_refusal=on_refusal, allow_loopback=allow_loopback)
        return _installed


def installed_guard() -> EgressGuard | None:
    """The guard of this process, if one was installed."""
    return _installed
