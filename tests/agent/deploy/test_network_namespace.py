"""Egress enforced where Python cannot be bypassed: the product in a network namespace
that has only loopback. A connection to any other address fails in the kernel (there
is no route: no packet can leave), also from code that goes around the in-process guard
(libc's connect called through ctypes). Only TEST-NET addresses are tried, and only
inside the namespace."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.namespaces import can_unshare
from tests.support.sites import new_site

pytestmark = pytest.mark.skipif(not can_unshare("--net"),
                                reason="needs root (unshare --net) and iproute2")

INSIDE = """
import ctypes, errno, json, os, socket, subprocess, sys
out = {}
server = socket.create_server(("127.0.0.1", 0))
with socket.create_connection(("127.0.0.1", server.getsockname()[1]), timeout=2):
    out["loopback"] = "connected"
for address in ("192.0.2.1", "198.51.100.7", "203.0.113.9"):
    s = socket.socket()
    try:
        s.connect((address, 4840))
        out[address] = "connected"
    except OSError as exc:
        out[address] = errno.errorcode.get(exc.errno, str(exc.errno))
    finally:
        s.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    u.sendto(b"x", ("192.0.2.1", 514))
    out["udp"] = "sent"
except OSError as exc:
    out["udp"] = errno.errorcode.get(exc.errno, str(exc.errno))
# The product's own command: refused by its in-process guard first.
plantagent = os.path.join(os.path.dirname(sys.executable), "plantagent")
done = subprocess.run([plantagent, "--home", sys.argv[1], "opcua",
                       "browse", "--endpoint", "opc.tcp://192.0.2.1:4840/"],
                      capture_output=True, text=True)
out["cli"] = [done.returncode, done.stderr.strip().splitlines()[:1]]
# Code that goes around the guard (it is installed in this process now): libc's
# connect() through ctypes. The kernel still refuses.
from agent.vault.egress import install_egress_guard
install_egress_guard([])
libc = ctypes.CDLL(None, use_errno=True)
fd = socket.socket()
import struct
addr = (struct.pack("=H", socket.AF_INET) + struct.pack("!H", 4840)  # sockaddr_in
        + socket.inet_aton("192.0.2.1") + bytes(8))
rc = libc.connect(fd.fileno(), ctypes.c_char_p(addr), len(addr))
out["ctypes"] = [rc, errno.errorcode.get(ctypes.get_errno(), "?")]
print(json.dumps(out))
"""


def test_nothing_leaves_a_namespace_with_only_loopback(tmp_path: Path) -> None:
    home = new_site(tmp_path / "site")
    script = tmp_path / "inside.py"
    script.write_text(textwrap.dedent(INSIDE))
    done = subprocess.run(
        ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
         sys.executable, str(script), str(home)],
        capture_output=True, text=True, timeout=120,
        cwd=Path(__file__).resolve().parents[3])
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["loopback"] == "connected"
    for address in ("192.0.2.1", "198.51.100.7", "203.0.113.9"):
        assert out[address] == "ENETUNREACH", out  # no route: refused by the kernel
    assert out["udp"] == "ENETUNREACH"
    code, first = out["cli"]
    assert code == 1 and "192.0.2.1" in first[0], out["cli"]
    assert out["ctypes"] == [-1, "ENETUNREACH"]
