"""The egress guard, each case in its own interpreter (audit hooks cannot be removed).

Only loopback addresses are ever connected to. Non-loopback refusals are proven by raising
the audit event by hand (``sys.audit``), which runs the hook without touching the network.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

PRELUDE = """
import asyncio, json, socket, sys
from agent.vault.egress import EgressRefused, install_egress_guard

refused = []
def on_refusal(address, detail):
    refused.append([address, detail["event"]])

def listener(host):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind((host, 0))
    srv.listen(1)
    return srv

def try_connect(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect((host, port))
        return "connected"
    except EgressRefused as exc:
        assert isinstance(exc, PermissionError)
        return "refused"
    finally:
        s.close()

def try_event(event, *args):
    try:
        sys.audit(event, *args)
        return "allowed"
    except EgressRefused:
        return "refused"

out = {}
"""


def _run(body: str) -> dict[str, object]:
    script = PRELUDE + textwrap.dedent(body) + "\nprint(json.dumps(out))\n"
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_narrow_allowlist_refuses_other_loopback_address() -> None:
    out = _run(
        """
        a, b = listener("127.0.0.1"), listener("127.0.0.2")
        install_egress_guard(["127.0.0.1/32"], on_refusal, allow_loopback=False)
        out["allowed"] = try_connect("127.0.0.1", a.getsockname()[1])
        out["other"] = try_connect("127.0.0.2", b.getsockname()[1])
        out["refused"] = refused
        """
    )
    assert out["allowed"] == "connected"
    assert out["other"] == "refused"
    assert out["refused"] == [["127.0.0.2", "socket.connect"]]


def test_default_policy_allows_loopback_and_refuses_the_rest() -> None:
    out = _run(
        """
        b = listener("127.0.0.2")
        guard = install_egress_guard([], on_refusal)
        out["loopback"] = try_connect("127.0.0.2", b.getsockname()[1])
        s = socket.socket()
        # Hook only (no packet leaves): the connect event for outside addresses.
        out["public"] = try_event("socket.connect", s, ("192.0.2.10", 443))
        s6 = socket.socket(socket.AF_INET6)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        out["v6"] = try_event("socket.connect", s6, ("2001:db8::1", 443, 0, 0))
        out["mapped"] = try_event("socket.connect", s6, ("::ffff:192.0.2.1", 80, 0, 0))
        out["v6_loop"] = try_event("socket.connect", s6, ("::1", 80, 0, 0))
        out["sendto"] = try_event("socket.sendto", udp, ("198.51.100.7", 53))
        out["lookup"] = try_event("socket.getaddrinfo", "api.example.com", 443, 0, 0, 0)
        out["lookup_local"] = try_event("socket.getaddrinfo", "localhost", 443, 0, 0, 0)
        out["lookup_none"] = try_event("socket.getaddrinfo", None, 443, 0, 0, 0)
        out["rdns"] = try_event("socket.gethostbyaddr", "192.0.2.10")
        out["count"] = guard.refusals
        """
    )
    assert out["loopback"] == "connected"
    for key in ("public", "v6", "mapped", "sendto", "lookup", "rdns"):
        assert out[key] == "refused", key
    for key in ("v6_loop", "lookup_local", "lookup_none"):
        assert out[key] == "allowed", key
    assert out["count"] == 6


def test_policy_is_replaceable_and_install_is_idempotent() -> None:
    out = _run(
        """
        s = socket.socket()
        g1 = install_egress_guard(["10.20.0.0/16", "historian.site.local"], on_refusal)
        out["site"] = try_event("socket.connect", s, ("10.20.3.4", 4840))
        out["outside"] = try_event("socket.connect", s, ("10.21.0.1", 4840))
        out["name"] = try_event("socket.getaddrinfo", "historian.site.local", 80, 0, 0, 0)
        g2 = install_egress_guard([], on_refusal)
        out["same"] = g1 is g2
        out["site_after"] = try_event("socket.connect", s, ("10.20.3.4", 4840))
        # A second install must not stack a second hook: one refusal per event.
        before = g1.refusals
        try_event("socket.connect", s, ("10.20.3.4", 4840))
        out["one_count_per_event"] = g1.refusals - before
        """
    )
    assert out["site"] == "allowed" and out["name"] == "allowed"
    assert out["outside"] == "refused"
    assert out["same"] is True
    assert out["site_after"] == "refused"
    assert out["one_count_per_event"] == 1


def test_unix_sockets_and_asyncio_paths() -> None:
    out = _run(
        """
        import os, tempfile
        install_egress_guard(["127.0.0.1/32"], on_refusal, allow_loopback=False)
        d = tempfile.mkdtemp()
        path = os.path.join(d, "s.sock")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path); srv.listen(1)
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(path)
        out["unix"] = "connected"
        b = listener("127.0.0.2")

        async def main():
            try:
                await asyncio.open_connection("127.0.0.2", b.getsockname()[1])
                return "connected"
            except EgressRefused:
                return "refused"
        out["asyncio"] = asyncio.run(main())
        """
    )
    assert out["unix"] == "connected"
    assert out["asyncio"] == "refused"


def test_failing_refusal_hook_still_refuses() -> None:
    out = _run(
        """
        def broken(address, detail):
            raise RuntimeError("audit store down")
        install_egress_guard([], broken)
        out["result"] = try_event("socket.connect", socket.socket(), ("192.0.2.1", 80))
        """
    )
    assert out["result"] == "refused"


def test_bad_allowlist_entry_is_config_error() -> None:
    from agent.errors import ConfigError
    from agent.vault.egress import EgressPolicy

    for entry in ("10.0.0.0/33", "", "a b"):
        try:
            EgressPolicy.from_allowlist([entry])
        except ConfigError as exc:
            assert "allowlist" in str(exc)
        else:
            raise AssertionError(f"{entry!r} accepted")
