"""`plantagent bench`: every benchmark in one run, each figure a ratio measured side by
side, with the machine described; progress on stderr, results on stdout (text or JSON)
and, with --out, as bench.json, bench.md and bench.png.

Measured duration on 2 idle cores: --quick about 2 minutes, the full run about 6; with
four other jobs on the cores, --quick took about 5 minutes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from agent.cli.common import print_json, settings_from_args
from agent.errors import UsageError


def register(sub: Any) -> None:
    """Add the bench command."""
    from harness.bench.plan import BENCHMARKS

    bench = sub.add_parser(
        "bench", help="run every benchmark side by side and print the ratios "
        "(--quick about 2 min, full about 6 min on 2 idle cores)")
    bench.add_argument("--quick", action="store_true", help="smaller sizes, one repetition")
    bench.add_argument("--json", action="store_true", help="print the results as JSON")
    bench.add_argument("--out", type=Path, default=None,
                       help="also write bench.json, bench.md and bench.png here")
    bench.add_argument("--only", nargs="+", choices=list(BENCHMARKS), default=None,
                       metavar="NAME", help=f"run only these ({', '.join(BENCHMARKS)})")
    bench.add_argument("--model", default=None, help="chat model (default: model.name)")
    bench.add_argument("--models-dir", type=Path, default=None,
                       help="where the GGUF files are (default: the site's model directory)")
    bench.add_argument("--threads", type=int, default=None,
                       help="model threads (default: model.threads)")
    bench.add_argument("--scripted", action="store_true",
                       help="a scripted model where a benchmark offers it (load: the "
                       "service's own overhead, a fast CI-sized run)")
    bench.set_defaults(handler=_bench)


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _bench(args: argparse.Namespace) -> int:
    import logging

    from agent.llm.registry import load_manifest
    from harness.bench.machine import describe_machine
    from harness.bench.plan import BenchOptions, default_names, expected_seconds, run_all
    from harness.bench.report import as_json, write_all

    settings = settings_from_args(args)
    entry = load_manifest(settings).get(args.model or settings.model.name)
    if entry.role != "chat":
        raise UsageError(f"{entry.name} is an {entry.role} model", fix="give a chat model")
    threads = args.threads or settings.model.threads
    if threads < 1:
        raise UsageError(f"--threads {threads}", fix="give 1 or more threads")
    names = args.only or default_names()
    logging.getLogger("asyncua").setLevel(logging.ERROR)  # session-timeout notices
    options = BenchOptions(entry, args.models_dir or settings.models_dir, threads, args.quick,
                           scripted=args.scripted)
    machine = describe_machine(entry.name, entry.sha256)
    _say(f"plantagent bench ({'quick' if args.quick else 'full'}): {len(names)} benchmarks, "
         f"about {expected_seconds(names, args.quick) / 60:.0f} min")
    started = time.monotonic()
    results = run_all(names, options, _say)
    seconds = time.monotonic() - started
    machine["load_1min_end"] = f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "0"
    if args.json:
        print_json(as_json(results, machine, quick=args.quick, seconds=seconds))
    else:
        print("machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()))
        for result in results:
            print()
            print("\n".join(result.lines()) + f"\n  ({result.seconds:.0f} s)")
        print(f"\ntotal {seconds:.0f} s")
    if args.out is not None:
        files = write_all(results, machine, args.out, quick=args.quick, seconds=seconds)
        for result in results:
            if isinstance(result.params.get("table"), str):  # the load benchmark's table
                table = args.out / f"{result.name}.md"
                table.write_text(f"# {result.title}\n\n{result.params['table']}\n"
                                 + "".join(f"\n- {n}" for n in result.notes), encoding="utf-8")
                files.append(table)
        _say("wrote " + ", ".join(str(p) for p in files))
    return 1 if any(r.error for r in results) else 0
