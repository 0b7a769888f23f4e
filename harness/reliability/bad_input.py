"""Bad input and bad luck: every case gets a message naming the file or value and the
fix, exit 1 or 2, never a traceback; a state spanning two stores never disagrees
silently; a recorder whose server died stops with exit 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from agent.approvals.service import ApprovalService
from agent.errors import PlantAgentError
from agent.people.identity import Acting
from agent.people.keys import KeySecret
from agent.runtime import SiteRuntime
from agent.settings import load_settings
from agent.vault.egress import permitting
from agent.vault.egress_policy import child_env
from agent.vault.layout import database_path
from harness.reliability.context import ROOT, Context, Run, is_root
from harness.reliability.model import Attempt, Outcome, expect, skipped

AREA = "bad input"


def _clean(run: Run, codes: tuple[int, ...] = (1, 2), *words: str) -> Outcome:
    return expect(run.code in codes and not run.traceback and run.says(*words), run.short())


def _on_small_disk(ctx: Context, size: str, script: str) -> Run | None:
    """``script`` (shell, $1 = a tmpfs of ``size``) in a private mount namespace."""
    if not is_root():
        return None
    disk = ctx.path("disk")
    disk.mkdir()
    exe = str(Path(sys.executable).with_name("plantagent"))
    cmd = ["unshare", "--mount", "sh", "-c",
           f'mount -t tmpfs -o size={size} tmpfs "$1" && {script}', "sh", str(disk), exe]
    with permitting("unshare"):
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                              env=child_env(), cwd=ROOT)
    return Run(done.returncode, done.stdout, done.stderr)


def full_disk_at_init(ctx: Context) -> Outcome:
    run = _on_small_disk(ctx, "24k", '"$2" init --home "$1/site" --demo-keyfile')
    if run is None:
        return skipped("needs root to mount a small tmpfs")
    return _clean(run, (1, 2), "full")


def full_disk_at_open(ctx: Context) -> Outcome:
    home = ctx.site()
    ctx.path("site.tar").write_bytes(b"")  # (the site is copied onto the small disk below)
    used = sum(p.stat().st_size for p in home.rglob("*") if p.is_file())
    script = (f'cp -a {home} "$1/site" && (dd if=/dev/zero of="$1/filler" bs=4k 2>/dev/null; '
              'true) && "$2" --home "$1/site" approvals list')
    run = _on_small_disk(ctx, f"{used + 512 * 1024}", script)
    if run is None:
        return skipped("needs root to mount a small tmpfs")
    return _clean(run, (1, 2), "full")


def huge_numbers(ctx: Context) -> Outcome:
    home = ctx.site(populated=False)
    runs = {
        "--last": ctx.cli("audit", "show", "--last", "9" * 30, home=home),
        "--limit": ctx.cli("audit", "search", "--limit", "9" * 30, home=home),
        "--since (age)": ctx.cli("audit", "search", "--since", "9" * 20 + "d", home=home),
        "--since (twin history)": ctx.cli("twin", "history", "X.Y", "--since", "9" * 20 + "w",
                                          home=home),
    }
    bad = {k: r.short() for k, r in runs.items() if r.code != 2 or r.traceback}
    return expect(not bad, "each exit 2 naming the value" if not bad else f"{bad}")


def export_into_missing_directory(ctx: Context) -> Outcome:
    home = ctx.site(populated=False)
    target = ctx.path("no/such/dir/keys.json")
    return _clean(ctx.cli("keys", "export-public", "--out", str(target), home=home), (1, 2),
                  "no/such/dir")


def triage_without_the_llm_extra(ctx: Context) -> Outcome:
    home = ctx.site(populated=False)
    done = ctx.python("""
        import asyncio, sys, threading
        sys.modules["llama_cpp"] = None  # as if the llm extra were not installed
        from plant.server import DemoPlantServer
        from agent.cli import main
        from agent.settings import SimSettings
        async def serve(ready, stop):
            async with DemoPlantServer(SimSettings(port=0), publish_interval_s=0.5) as plant:
                ready.append(plant.endpoint)
                while not stop:
                    await asyncio.sleep(0.1)
        ready, stop = [], []
        thread = threading.Thread(target=asyncio.run, args=(serve(ready, stop),), daemon=True)
        thread.start()
        import time
        deadline = time.monotonic() + 60
        while not ready and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        if not ready:
            print("EXIT 98 (the demo plant did not start)")
            sys.exit(0)
        code = main(["--home", sys.argv[1], "triage", "run", "--endpoint", ready[0]])
        stop.append(1)
        thread.join()
        print("EXIT", code)
    """, str(home), timeout=180)
    code = next((int(ln.split()[1]) for ln in done.out.splitlines()
                 if ln.startswith("EXIT ")), None)
    said = "llm" in done.err and "template" in done.err
    return expect(code in (0, 1) and said and not done.traceback,
                  f"exit {code}; {next((ln for ln in done.err.splitlines() if 'llm' in ln), '')}"
                  f"{done.short() if code is None else ''}")


PIPED = [("audit", "show", "--last", "200"), ("audit", "verify"), ("config", "reference"),
         ("models", "list"), ("policy", "show"), ("recover", "status"),
         ("deploy", "systemd-unit"), ("approvals", "list")]


def piped_into_head(ctx: Context) -> Outcome:
    home = ctx.site()
    exe = str(Path(sys.executable).with_name("plantagent"))
    bad = []
    for argv in PIPED:
        with permitting(exe):
            proc = subprocess.Popen([exe, "--home", str(home), *argv], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=child_env(), cwd=ROOT)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.read(1)  # `| head -c 1`: read a byte, then go away
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace")
        code = proc.wait(timeout=120)
        if code not in (0, 1) or "Traceback" in err or "internal error" in err:
            bad.append(f"{' '.join(argv)}: exit {code} {err.strip()[:80]}")
    return expect(not bad, f"{len(PIPED)} commands cut off by a closed pipe, none with a "
                  "traceback" if not bad else "; ".join(bad))


def malformed_database_advice(ctx: Context) -> Outcome:
    """A database damaged while its session was open (a crash: no digest to compare):
    the page that fails is named, with advice that fits (restore or recover), not "check
    the directory is writable"."""
    home = ctx.site()
    crashed = ctx.python("""
        import os, sys
        from agent.runtime import SiteRuntime
        from agent.settings import load_settings
        runtime = SiteRuntime(load_settings(home=sys.argv[1]))
        runtime.approvals.requests()
        os._exit(9)  # dies with the approvals database open
    """, str(home))
    path = database_path(home, "approvals")
    data = bytearray(path.read_bytes())
    for page in range(1, len(data) // 4096):  # garble every page but the first
        data[page * 4096 + 100] ^= 0xFF
    path.write_bytes(bytes(data))
    run = ctx.cli("approvals", "list", home=home)
    good = (run.code in (1, 2) and not run.traceback and run.says("approvals.db", "restore")
            and not run.says("writable"))
    return expect(good and crashed.code == 9, run.short() + " / " + run.err.splitlines()[-1]
                  if run.err else run.short())


def two_stores_disagree(ctx: Context) -> Outcome:
    """The approvals store fails between the audit record "approved" and its own write:
    a compensating record says so, and the request stays pending in both."""
    home = ctx.site()
    with SiteRuntime(load_settings(home=home)) as runtime:
        service: ApprovalService = runtime.approvals
        # Erin, the populated site's enrolled engineer, signs her approval.
        erin = runtime.people.get("erin")
        acting = Acting(runtime.people.unlock(erin, KeySecret(key_file=home / "erin.key")),
                        "engineer")
        conn = runtime.site.database("approvals")
        list(conn.execute("PRAGMA query_only=1"))  # the store can no longer write
        try:
            service.approve("AP-00000001", acting)
            error = None
        except PlantAgentError as exc:
            error = exc.message
        list(conn.execute("PRAGMA query_only=0"))
        stored = service.store_state("AP-00000001")
        records = runtime.audit.search(kind="approval", text="AP-00000001")
    events = [r.payload.get("event") for r in records]
    compensated = "approved_not_stored" in events and events.index("approved") < events.index(
        "approved_not_stored")
    return expect(error is not None and stored == "pending" and compensated,
                  f"approve failed ({(error or '')[:60]}); audit events {events}; store "
                  f"{stored}")


def recorder_whose_server_died(ctx: Context) -> Outcome:
    home = ctx.site(populated=False)
    done = ctx.python("""
        import asyncio, sys, threading, time
        from plant.server import DemoPlantServer
        from agent.cli import main
        from agent.settings import SimSettings
        state = {}
        async def serve(stop_after):
            async with DemoPlantServer(SimSettings(port=0), publish_interval_s=0.5) as plant:
                state["endpoint"] = plant.endpoint
                await asyncio.sleep(stop_after)
        thread = threading.Thread(target=asyncio.run, args=(serve(6),), daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while "endpoint" not in state and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        if "endpoint" not in state:
            print("EXIT 98 0 (the demo plant did not start)")
            sys.exit(0)
        began = time.monotonic()
        code = main(["--home", sys.argv[1], "twin", "record", "--endpoint",
                     state["endpoint"], "--give-up-after", "3"])
        print("EXIT", code, round(time.monotonic() - began))
    """, str(home), timeout=180)
    line = next((ln.split() for ln in done.out.splitlines() if ln.startswith("EXIT ")), None)
    code = int(line[1]) if line else None
    return expect(code == 1 and "has not answered" in done.err and not done.traceback,
                  f"exit {code} after {line[2] if line else '?'} s: "
                  f"{next((ln for ln in done.err.splitlines() if 'error' in ln), '')[:140]}")


ATTEMPTS = [
    Attempt(AREA, "a full disk at init", "a small tmpfs", full_disk_at_init),
    Attempt(AREA, "a full disk at open", "the site on a full tmpfs", full_disk_at_open),
    Attempt(AREA, "huge --last, --limit, --since", "numbers no database or calendar takes",
            huge_numbers),
    Attempt(AREA, "keys export-public --out into a missing directory", "",
            export_into_missing_directory),
    Attempt(AREA, "triage run without the llm extra", "the template writes, said",
            triage_without_the_llm_extra),
    Attempt(AREA, "output piped into head", "each command cut off mid-output",
            piped_into_head),
    Attempt(AREA, "a malformed database", "the advice fits the cause",
            malformed_database_advice),
    Attempt(AREA, "audit says approved, approvals store fails", "a compensating record",
            two_stores_disagree),
    Attempt(AREA, "twin record when the server dies", "exit 1 after retrying",
            recorder_whose_server_died),
]
