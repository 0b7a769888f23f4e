"""Whole files: a byte flipped anywhere in any database is refused, and `audit verify`
reads every page of every database (not only the rows it needs)."""

from __future__ import annotations

import json
import random
import shutil

from agent.vault.layout import SITE_DATABASES, database_path
from harness.reliability.context import Context
from harness.reliability.model import Attempt, Outcome, expect

AREA = "whole files"
FLIPS = 12


def _flips(name: str) -> Attempt:
    def attempt(ctx: Context) -> Outcome:
        template = ctx.site("template")
        rng = random.Random(f"flip-{name}")
        size = database_path(template, name).stat().st_size
        refused, missed = 0, []
        command = {"audit": ("audit", "show"), "approvals": ("approvals", "list"),
                   "reports": ("triage", "reports"), "twin": ("twin", "assets"),
                   "people": ("people", "list")}[name]
        for i in range(FLIPS):
            home = ctx.path(f"copy-{i}")
            shutil.copytree(template, home)
            path = database_path(home, name)
            data = bytearray(path.read_bytes())
            offset = rng.randrange(size)
            data[offset] ^= 1 << rng.randrange(8)
            path.write_bytes(bytes(data))
            run = ctx.cli(*command, home=home)
            if run.code in (1, 2) and not run.traceback and path.name in run.err:
                refused += 1
            else:
                missed.append(f"offset {offset}: {run.short()}")
            shutil.rmtree(home)
        return expect(not missed, f"{refused}/{FLIPS} flips at random offsets of {size:,} "
                      f"bytes refused" + (f"; missed {missed[:2]}" if missed else ""))

    return Attempt(AREA, f"random byte flips in {name}.db",
                   "each refused at the next open", attempt)


def verify_reads_every_page(ctx: Context) -> Outcome:
    home = ctx.site()
    run = ctx.cli("audit", "verify", "--json", home=home)
    report = json.loads(run.out) if run.out.strip().startswith("{") else {}
    files = {f["database"]: f for f in report.get("files", [])}
    ok = (run.code == 0 and set(SITE_DATABASES) <= set(files)
          and all(f["pages_read"] > 0 and f["ok"] for f in files.values())
          and all(files[n]["whole_file_matches_head"] for n in SITE_DATABASES
                  if n != "audit"))
    return expect(ok, "; ".join(f"{n}: {f['pages_read']} pages read"
                                + (", whole file = head" if f["whole_file_matches_head"]
                                   else "") for n, f in sorted(files.items())) or run.short())


ATTEMPTS = [*[_flips(name) for name in SITE_DATABASES],
            Attempt(AREA, "verify covers every page of every database",
                    "integrity check and every page read; idle files hashed against "
                    "their head", verify_reads_every_page)]
