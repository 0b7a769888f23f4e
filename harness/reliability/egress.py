"""Egress: what the in-process guard refuses (each case in its own interpreter, as the
product installs the guard), what the kernel refuses in a namespace with only loopback,
and no package index reached at run time.

Network cases never send a packet: their audit events are raised by hand (what the
socket module raises before any system call), so a guard that failed open would still
send nothing. The process and library cases start only /bin/true or load a system
library, harmless if the guard failed open (which the attempt then reports).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from harness.reliability.context import Context, is_root
from harness.reliability.model import Attempt, Outcome, expect, skipped

AREA = "egress"

PRELUDE = """
import json, os, socket, sys
from agent.vault.egress import EgressRefused, install_egress_guard
install_egress_guard([])  # what every command installs first
def attempt(fn):
    try:
        fn()
        print(json.dumps({"result": "allowed"}))
    except EgressRefused as exc:
        print(json.dumps({"result": "refused", "why": str(exc)}))
    except Exception as exc:
        print(json.dumps({"result": "error", "why": f"{type(exc).__name__}: {exc}"}))
"""


def _case(name: str, what: str, body: str) -> Attempt:
    def run(ctx: Context) -> Outcome:
        done = ctx.python(PRELUDE + body)
        lines = [ln for ln in done.out.splitlines() if ln.startswith("{")]
        result = json.loads(lines[-1]) if lines else {"result": "no answer", "why": done.err}
        return expect(result["result"] == "refused",
                      f"{result['result']}: {str(result.get('why', ''))[:150]}")

    return Attempt(AREA, name, what, run)


CASES = [
    _case("TCP connect off the allowlist", "a TEST-NET address",
          'attempt(lambda: sys.audit("socket.connect", socket.socket(), ("192.0.2.1", 4840)))'),
    _case("UDP sendto", "a datagram to a TEST-NET address",
          'u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n'
          'attempt(lambda: sys.audit("socket.sendto", u, ("192.0.2.1", 514)))'),
    _case("UDP sendmsg", "a datagram by sendmsg", 'u = socket.socket(socket.AF_INET, '
          'socket.SOCK_DGRAM)\nattempt(lambda: sys.audit("socket.sendmsg", u, '
          '("198.51.100.7", 514)))'),
    _case("name lookup", "a name not in the allowlist (a DNS query leaving the site)",
          'attempt(lambda: sys.audit("socket.getaddrinfo", "updates.example.com", 443, 0, 0, '
          '0))'),
    _case("reverse lookup (gethostbyaddr)", "a PTR query for an address",
          'attempt(lambda: sys.audit("socket.gethostbyaddr", "192.0.2.1"))'),
    _case("reverse lookup (getnameinfo)", "a PTR query through getnameinfo",
          'attempt(lambda: sys.audit("socket.getnameinfo", ("203.0.113.9", 80)))'),
    _case("subprocess", "a program started with subprocess",
          'import subprocess\nattempt(lambda: subprocess.run(["/bin/true"]))'),
    _case("os.system", "a shell command",
          'attempt(lambda: os.system("true"))'),
    _case("os.exec", "the process replaced by another program",
          'attempt(lambda: os.execv("/bin/true", ["true"]))'),
    _case("os.posix_spawn", "a program started by posix_spawn",
          'attempt(lambda: os.posix_spawn("/bin/true", ["true"], dict(os.environ)))'),
    _case("multiprocessing spawn", "a new interpreter without the guard",
          'import multiprocessing as mp\n'
          'attempt(lambda: mp.get_context("spawn").Process(target=print).start())'),
    _case("multiprocessing forkserver", "a fork server started from a new interpreter",
          'import multiprocessing as mp\n'
          'attempt(lambda: mp.get_context("forkserver").Process(target=print).start())'),
    _case("ctypes loading a library by name", "libc by name, e.g. to call connect() directly",
          'import ctypes\nattempt(lambda: ctypes.CDLL("libc.so.6"))'),
    _case("ctypes loading a system library by path", "a library outside llama.cpp's",
          'import ctypes, ctypes.util\nimport glob\n'
          'path = (glob.glob("/lib/*/libm.so.6") + glob.glob("/usr/lib/*/libm.so.6"))[0]\n'
          'attempt(lambda: ctypes.CDLL(path))'),
    _case("a permitted program with the passphrase in its environment",
          "even a program the command may start never inherits the passphrase",
          'import subprocess\nfrom agent.vault.egress import permitting\n'
          'os.environ["PLANTAGENT_PASSPHRASE"] = "orbit lantern quarry velvet"\n'
          'def start():\n'
          '    with permitting("/bin/true"):\n'
          '        subprocess.run(["/bin/true"])\n'
          'attempt(start)'),
]


def docs_never_fetch(ctx: Context) -> Outcome:
    """`docs add` on a site without the embedding model: an error naming `models fetch`,
    and no program started to fetch it."""
    home = ctx.site(populated=False)
    manual = ctx.path("manual.md")
    manual.write_text("# Pump P-101\n\nCheck the seal.\n")
    done = ctx.python("""
        import json, sys
        started = []
        sys.addaudithook(lambda e, a: started.append(str(a[0])) if e == "subprocess.Popen"
                         else None)
        from agent.cli import main
        code = main(["--home", sys.argv[1], "docs", "add", sys.argv[2]])
        print(json.dumps({"code": code, "started": started}))
    """, str(home), str(manual), env={"PLANTAGENT_MODEL__DIRECTORY": str(ctx.path("none"))})
    lines = [ln for ln in done.out.splitlines() if ln.startswith("{")]
    result = json.loads(lines[-1]) if lines else {"code": None, "started": ["?"]}
    return expect(result["code"] in (1, 2) and not result["started"]
                  and "models fetch" in done.err,
                  f"exit {result['code']}, programs started {result['started']}, "
                  f"{next((ln for ln in done.err.splitlines() if 'fix' in ln), '')[:120]}")


def every_command_guarded(ctx: Context) -> Outcome:
    """Even a command that opens no site (`config show`) runs under the guard."""
    done = ctx.python("""
        import contextlib, io, json
        from agent.cli import main
        from agent.vault.egress import installed_guard
        with contextlib.redirect_stdout(io.StringIO()):
            main(["config", "show"])
        print(json.dumps({"guard": installed_guard() is not None}))
    """)
    lines = [ln for ln in done.out.splitlines() if ln.startswith("{")]
    guarded = bool(lines) and json.loads(lines[-1])["guard"]
    return expect(guarded, "guard installed by `plantagent config show`" if guarded
                  else f"no guard: {done.short()}")


NAMESPACE = """
import ctypes, errno, json, socket, struct
out = {}
s = socket.socket()
try:
    s.connect(("192.0.2.1", 4840))
    out["connect"] = "connected"
except OSError as exc:
    out["connect"] = errno.errorcode.get(exc.errno, str(exc.errno))
libc = ctypes.CDLL(None, use_errno=True)
fd = socket.socket()
addr = (struct.pack("=H", socket.AF_INET) + struct.pack("!H", 4840)
        + socket.inet_aton("198.51.100.7") + bytes(8))
rc = libc.connect(fd.fileno(), ctypes.c_char_p(addr), len(addr))
out["libc"] = errno.errorcode.get(ctypes.get_errno(), "?") if rc else "connected"
print(json.dumps(out))
"""


def kernel_in_a_namespace(ctx: Context) -> Outcome:
    """In a network namespace with only loopback, a connect to any other address fails in
    the kernel, also from native code around the guard (libc's connect by ctypes)."""
    if not is_root() or shutil.which("ip") is None:
        return skipped("needs root (unshare --net) and iproute2")
    done = ctx.python(NAMESPACE, wrap=["unshare", "--net", "sh", "-c",
                                       'ip link set lo up && exec "$@"', "sh"])
    lines = [ln for ln in done.out.splitlines() if ln.startswith("{")]
    out = json.loads(lines[-1]) if lines else {}
    return expect(out == {"connect": "ENETUNREACH", "libc": "ENETUNREACH"},
                  f"python connect: {out.get('connect')}, libc connect: {out.get('libc')}"
                  if out else done.short())


def systemd_unit_denies_by_default(ctx: Context) -> Outcome:
    home = ctx.site(populated=False)
    out = ctx.path("plantagent.service")
    run = ctx.cli("deploy", "systemd-unit", "--out", str(out), home=home)
    text = out.read_text() if out.is_file() else ""
    wanted = ["IPAddressDeny=any", "IPAddressAllow=localhost",
              "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "NoNewPrivileges=yes",
              "ProtectSystem=strict", "LoadCredential=plantagent-passphrase:"]
    missing = [w for w in wanted if w not in text]
    return expect(run.code == 0 and not missing,
                  "unit has " + ", ".join(w.split("=")[0] for w in wanted) if not missing
                  else f"missing {missing}: {run.short()}")


ATTEMPTS = [
    *CASES,
    Attempt(AREA, "docs add never fetches a model", "no package index at run time; the "
            "error names `plantagent models fetch`", docs_never_fetch),
    Attempt(AREA, "a command that opens no site", "the guard is installed for every command",
            every_command_guarded),
    Attempt(AREA, "connect from a network namespace with only loopback",
            "refused by the kernel, even around the guard", kernel_in_a_namespace),
    Attempt(AREA, "the service's systemd unit", "deny by default, allow the site's networks",
            systemd_unit_denies_by_default),
]

__all__ = ["ATTEMPTS", "Path"]
