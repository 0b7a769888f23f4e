"""`plantagent reliability [--area AREA] [--json] [--out FILE]`: every attempt of the
red-team pass (issue 17) tried again against throw-away sites, by area, with how many
hold (harness/reliability). Loopback only; the attempts that need root (namespaces, a
small tmpfs) say "not run here" elsewhere."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agent.cli.common import print_json
from agent.errors import UsageError


def register(sub: Any) -> None:
    """Add the reliability command."""
    rel = sub.add_parser("reliability", help="the adversarial attempts (roll-back, loss, "
                         "whole files, egress, secrets, bad input): how many hold")
    rel.add_argument("--area", action="append", default=[], metavar="AREA",
                     help="only this area (repeatable)")
    rel.add_argument("--json", action="store_true", help="print the results as JSON")
    rel.add_argument("--out", type=Path, default=None,
                     help="also write the tables as Markdown to this file")
    rel.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from harness.reliability.runner import ATTEMPTS, details, run, table

    areas = {a.area for a in ATTEMPTS}
    unknown = set(args.area) - areas
    if unknown:
        raise UsageError(f"no area {sorted(unknown)[0]!r}",
                         fix=f"use one of: {', '.join(sorted(areas))}")
    chosen = [a for a in ATTEMPTS if not args.area or a.area in args.area]
    print(f"{len(chosen)} attempts", file=sys.stderr)
    results = run(chosen, say=lambda line: print(line, file=sys.stderr))
    failed = [r for r in results if not r.outcome.held and not r.outcome.skipped]
    if args.json:
        print_json([{"area": r.attempt.area, "attempt": r.attempt.name,
                     "held": r.outcome.held, "skipped": r.outcome.skipped,
                     "detail": r.outcome.detail, "seconds": round(r.seconds, 2)}
                    for r in results])
    else:
        print("\n".join(table(results)))
    if args.out is not None:
        if not args.out.parent.is_dir():
            raise UsageError(f"the directory {args.out.parent} does not exist",
                             fix="create it first, or give another --out path")
        args.out.write_text("\n".join([*table(results), "", *details(results), ""]),
                            encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 1 if failed else 0
