"""What the egress guard allows: networks and names, child processes, native libraries.

Networks: loopback plus the site's allowlist (CIDRs; host names may be looked up, their
addresses must be allowlisted to connect). Reverse lookups of anything but loopback are
refused (the product never needs one, and each is a DNS query leaving the site).

Child processes: none by default. A command that must start one (``models fetch`` runs
pip; the air-gapped installer) permits that executable for the moment it runs
(:meth:`agent.vault.egress.EgressGuard.permitting`), and never with a secret in the
child's environment.

Native libraries through ctypes: only ``None`` (the running program itself) and files
inside the directories of the packages the product loads that way (llama-cpp-python's
shared libraries). Extension modules and SQLite extensions load through the import
system and SQLite, not ctypes.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from agent.errors import ConfigError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
#: Packages whose own shared libraries may be loaded with ctypes.
NATIVE_PACKAGES = ("llama_cpp",)
#: Environment variables a child process must never inherit.
SECRET_ENV = ("PLANTAGENT_PASSPHRASE", "PLANTAGENT_NEW_PASSPHRASE",
              "PLANTAGENT_RELEASE_PASSPHRASE")


def package_dirs(names: Iterable[str]) -> tuple[Path, ...]:
    """The directories of installed packages (found without importing them)."""
    dirs: list[Path] = []
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for location in (spec.submodule_search_locations or []) if spec else []:
            dirs.append(Path(location).resolve())
    return tuple(dirs)


@dataclass(frozen=True)
class EgressPolicy:
    """What the guard allows."""

    networks: tuple[IPNetwork, ...]
    hostnames: frozenset[str]
    allow_loopback: bool = True
    #: The entries the policy was made from, as given (stripped): what `status` shows.
    allowlist: tuple[str, ...] = ()
    #: Executables (resolved paths) that may be started; empty: no child process; "*":
    #: any program (only a test suite's own helpers ask for that, between commands).
    executables: frozenset[str] = frozenset()
    #: Directories ctypes may load shared libraries from.
    library_dirs: tuple[Path, ...] = field(default_factory=lambda: package_dirs(NATIVE_PACKAGES))

    @classmethod
    def from_allowlist(cls, allowlist: list[str], *, allow_loopback: bool = True,
                       executables: Iterable[str] = ()) -> EgressPolicy:
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
        return cls(tuple(networks), frozenset(names), allow_loopback, entries,
                   frozenset(e if e == "*" else resolve_executable(e) for e in executables))

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

    def allows_reverse(self, host: str) -> bool:
        """True when a reverse lookup of ``host`` may be made: loopback only."""
        ip = as_ip(host)
        return self.allow_loopback and ip is not None and ip.is_loopback

    def allows_executable(self, path: str | None) -> bool:
        """True when the program ``path`` may be started."""
        if "*" in self.executables:
            return True
        return path is not None and resolve_executable(path) in self.executables

    def allows_library(self, name: object) -> bool:
        """True when ctypes may load ``name`` (None: the running program)."""
        if name is None or name == "":
            return True
        if not isinstance(name, str | bytes | os.PathLike):
            return False
        path = Path(os.fsdecode(name))
        if not path.is_absolute():
            return False  # a bare name is searched for: not one of ours
        resolved = path.resolve()
        return any(resolved.is_relative_to(d) for d in self.library_dirs)


def resolve_executable(path: str) -> str:
    """An executable's resolved path, a bare name looked up on PATH as exec would (as
    given when it cannot be resolved)."""
    if "/" not in path:
        path = shutil.which(path) or path
        if "/" not in path:
            return path
    try:
        return str(Path(path).resolve())
    except OSError:
        return path


def as_ip(host: str) -> IPAddress | None:
    """``host`` as an address (an IPv6 zone id dropped), or None for a name."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def secret_in(env: Mapping[str, str] | Mapping[bytes, bytes] | None) -> str | None:
    """The name of a secret variable ``env`` (None: this process's) would hand a child."""
    names = {os.fsdecode(k) for k in (os.environ if env is None else env)}
    for name in SECRET_ENV:
        if name in names:
            return name
    return None


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any secret, for a child process."""
    env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV}
    env.update(extra or {})
    return env
