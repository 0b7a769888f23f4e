"""The egress guard: the process may only talk to loopback and allowlisted site networks,
start no program and load no native library it was not meant to (agent/vault
/egress_policy.py says what is allowed).

It is a ``sys.addaudithook`` hook on the audit events of sockets (connect, sendto,
sendmsg, name and reverse lookups), processes (``subprocess.Popen``, ``os.system``,
``os.exec*``, ``os.posix_spawn``, ``os.spawn*``, and multiprocessing's spawn and
forkserver starts, which raise no event of their own: the guard makes them raise
``plantagent.spawn``) and ``ctypes.dlopen``. Audit hooks cannot be removed, so the hook
is installed once per process and holds a replaceable policy: calling
:func:`install_egress_guard` again swaps the policy in place. That process-wide state is
the one deliberate global of the vault — the hook itself is process-wide.

An in-process hook stops the libraries the product runs, not a determined attacker with
code execution (C code calls the kernel directly): the service's systemd unit
(agent/service/deploy) enforces the same allowlist in the kernel.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from agent.vault.egress_policy import EgressPolicy, as_ip, resolve_executable, secret_in

#: Called with (address, detail) before a refusal is raised; the audit log records it.
RefusalHook = Callable[[str, dict[str, Any]], None]
#: The audit event the guard makes multiprocessing's process starts raise.
SPAWN_EVENT = "plantagent.spawn"
_PROCESS_EVENTS = ("subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn", SPAWN_EVENT)

__all__ = ["EgressGuard", "EgressPolicy", "EgressRefused", "install_egress_guard",
           "installed_guard"]


class EgressRefused(PermissionError):
    """A connection, lookup, process or library outside what the guard allows."""

    def __init__(self, address: str, event: str, why: str | None = None) -> None:
        super().__init__(errno.EACCES, why or (
            f"egress refused: {address} is not loopback and not in the network allowlist "
            "(fix: add its network as CIDR to [network] allowlist in plantagent.toml, "
            "if it is an on-site address)"))
        self.address = address
        self.event = event


class EgressGuard:
    """The installed guard; :meth:`update` replaces its policy."""

    def __init__(self, policy: EgressPolicy, on_refusal: RefusalHook | None) -> None:
        self._policy = policy
        self._on_refusal = on_refusal
        self._lock = threading.Lock()
        self._permitted: dict[str, int] = {}
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
        executables: Iterable[str] = (),
    ) -> None:
        """Replace the policy (and the refusal hook)."""
        policy = EgressPolicy.from_allowlist(allowlist, allow_loopback=allow_loopback,
                                             executables=executables)
        with self._lock:
            self._policy = policy
            self._on_refusal = on_refusal

    @contextlib.contextmanager
    def permitting(self, *executables: str) -> Iterator[None]:
        """Let these programs be started while the block runs (an explicit fetch, the
        installer); still never with a secret in their environment."""
        paths = [resolve_executable(e) for e in executables]
        with self._lock:
            for path in paths:
                self._permitted[path] = self._permitted.get(path, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                for path in paths:
                    self._permitted[path] -= 1
                    if not self._permitted[path]:
                        del self._permitted[path]

    def check_host(self, host: str, event: str) -> None:
        """Raise EgressRefused unless ``host`` (address or name) is allowed."""
        policy = self._policy
        ip = as_ip(host)
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

    def _refuse(self, address: str, event: str, why: str | None = None) -> None:
        self.refusals += 1
        hook = self._on_refusal
        try:
            if hook is not None:
                hook(address, {"event": event})
        finally:
            # Refuse even if the hook failed: the guard must never fail open.
            raise EgressRefused(address, event, why)

    def _check_process(self, event: str, program: str | None, env: Any) -> None:
        name = program or "(unnamed)"
        secret = secret_in(env)
        if secret is not None:
            self._refuse(name, event, f"process start refused: {name} would inherit {secret} "
                         "(fix: pass the child an environment without secrets)")
        if program is not None and (self._policy.allows_executable(program)
                                    or resolve_executable(program) in self._permitted):
            return
        self._refuse(name, event, f"process start refused: {name} (plantagent starts no "
                     "program at run time; fix: fetch models with `plantagent models fetch`, "
                     "the one command that runs pip)")

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if event.startswith("socket."):
            self._socket_event(event, args)
        elif event in _PROCESS_EVENTS:
            program, env = _program_and_env(event, args)
            self._check_process(event, program, env)
        elif event == "os.system":
            self._refuse(str(args[0])[:60], event, "process start refused: os.system (a shell "
                         "command); plantagent starts no program at run time")
        elif event == "ctypes.dlopen" and not self._policy.allows_library(args[0]):
            name = str(args[0])
            self._refuse(name, event, f"native library refused: {name} (only the "
                         "product's own llama.cpp libraries are loaded with ctypes)")

    def _socket_event(self, event: str, args: tuple[Any, ...]) -> None:
        if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
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
        elif event in ("socket.gethostbyaddr", "socket.getnameinfo"):
            target = args[0]
            host = str(target[0] if isinstance(target, tuple) and target else target)
            if not self._policy.allows_reverse(host):
                self._refuse(host, event, f"reverse lookup refused: {host} (a DNS query off "
                             "the site; plantagent never needs one)")


def _program_and_env(event: str, args: tuple[Any, ...]) -> tuple[str | None, Any]:
    """The program an audit event starts, and the environment it gets (None: ours)."""
    if event == "subprocess.Popen":  # (executable, args, cwd, env)
        executable, argv, _cwd, env = args
        program = executable or (argv[0] if isinstance(argv, list | tuple) and argv
                                 else argv if isinstance(argv, str | bytes) else None)
    elif event == "os.spawn":  # (mode, path, args, env)
        program, env = args[1], args[3]
    else:  # os.exec, os.posix_spawn, plantagent.spawn: (path, args, env)
        program, env = args[0], args[2] if len(args) > 2 else None
    if isinstance(program, bytes):
        program = program.decode(errors="replace")
    return (None if program is None else str(program)), env


_installed: EgressGuard | None = None
_install_lock = threading.Lock()


def _guard_multiprocessing() -> None:
    """multiprocessing's spawn and forkserver start a new interpreter (without this
    guard) through ``util.spawnv_passfds``, which raises no audit event: make it raise
    ``plantagent.spawn``."""
    import multiprocessing.util as mp_util

    original = mp_util.spawnv_passfds
    if getattr(original, "__plantagent_guarded__", False):
        return

    def spawnv_passfds(path: Any, args: Any, passfds: Any) -> Any:
        sys.audit(SPAWN_EVENT, path, args, None)
        return original(path, args, passfds)

    spawnv_passfds.__plantagent_guarded__ = True  # type: ignore[attr-defined]
    mp_util.spawnv_passfds = spawnv_passfds


def install_egress_guard(
    allowlist: list[str],
    on_refusal: RefusalHook | None = None,
    *,
    allow_loopback: bool = True,
    executables: Iterable[str] = (),
) -> EgressGuard:
    """Install the process-wide egress guard, or replace its policy if already installed.

    ``allowlist`` holds CIDRs or addresses of on-site networks (host names in it may be
    looked up; connecting still needs their addresses allowlisted). ``allow_loopback``
    is False only in tests that need a narrower policy than 127.0.0.0/8.
    ``executables`` may always be started (tests that run helper processes); a command
    that needs one for a moment uses :meth:`EgressGuard.permitting`.
    """
    global _installed
    policy = EgressPolicy.from_allowlist(allowlist, allow_loopback=allow_loopback,
                                         executables=executables)
    with _install_lock:
        if _installed is None:
            _installed = EgressGuard(policy, on_refusal)
            _guard_multiprocessing()
            sys.addaudithook(_installed)
        else:
            _installed.update(allowlist, on_refusal=on_refusal, allow_loopback=allow_loopback,
                              executables=executables)
        return _installed


def installed_guard() -> EgressGuard | None:
    """The guard of this process, if one was installed."""
    return _installed


@contextlib.contextmanager
def permitting(*executables: str) -> Iterator[None]:
    """:meth:`EgressGuard.permitting` on the installed guard (nothing to do without one)."""
    guard = _installed
    if guard is None:
        yield
        return
    with guard.permitting(*executables):
        yield
