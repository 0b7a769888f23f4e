"""`plantagent incidents ...`: the incident memory of the digital twin.

plantagent incidents load [FILE...] [--demo]   store incident records (JSON)
plantagent incidents search [SYMPTOMS] [--equipment EQ] [--reading TAG=VALUE ...]
                            [-k 3] [--json]   (through the site service when it runs)
plantagent incidents reembed                   re-embed every record (new model)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agent.cli.common import (
    add_service_choice,
    chosen_service,
    count,
    open_runtime,
    print_json,
    settings_from_args,
)
from agent.cli.docs_cmd import twin_of
from agent.cli.progress import progress_bar
from agent.errors import UsageError


def register(sub: Any) -> None:
    """Add the incidents commands."""
    inc = sub.add_parser("incidents", help="past incidents: load and find similar ones")
    inc_sub = inc.add_subparsers(dest="incidents_command", metavar="ACTION")

    load = inc_sub.add_parser("load", help="store incident records (JSON files)")
    load.add_argument("paths", nargs="*", type=Path)
    load.add_argument("--demo", action="store_true", help="the demo plant's incident history")
    load.set_defaults(handler=_load)

    search = inc_sub.add_parser("search", help="find the most similar past incidents")
    search.add_argument("symptoms", nargs="?", default=None, help="what is observed")
    search.add_argument("--equipment", help="only incidents involving this equipment")
    search.add_argument(
        "--reading",
        action="append",
        default=[],
        metavar="TAG=VALUE",
        help="a current tag value (repeatable)",
    )
    search.add_argument("-k", type=count(1, 1000), default=3)
    search.add_argument("--json", action="store_true")
    add_service_choice(search, service_help="search through the site service (no site "
                       "passphrase; it holds the incident memory)",
                       local_help="open the site in this process (needs the site passphrase)")
    search.set_defaults(handler=_search)

    reembed = inc_sub.add_parser("reembed", help="re-embed every record with the current model")
    reembed.set_defaults(handler=_reembed)


def _readings(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        tag, sep, value = item.partition("=")
        try:
            if not sep or not tag:
                raise ValueError(item)
            out[tag.strip()] = float(value)
        except ValueError:
            raise UsageError(
                f"--reading {item!r} is not TAG=VALUE",
                fix="write e.g. --reading P-101.Vibration=7.2",
            ) from None
    return out


def _load(args: argparse.Namespace) -> int:
    from agent.cli.plugins import demo_data
    from agent.twin.incidents.memory import IncidentMemory
    from agent.twin.incidents.records import load_incident_files

    files = list(args.paths) + (demo_data("incidents") if args.demo else [])
    if not files:
        print("nothing to load: give JSON files, or --demo", file=sys.stderr)
        return 2
    records = load_incident_files(files)
    with open_runtime(settings_from_args(args)) as runtime, \
            progress_bar("embedding work orders") as update:
        twin = twin_of(runtime)
        memory = IncidentMemory(twin.conn, twin.embedder)
        counts = memory.load(records, progress=update)
        total = memory.count()
    print(", ".join(f"{n} {what}" for what, n in counts.items()) + f"; {total} stored")
    return 0


def _search(args: argparse.Namespace) -> int:
    from agent.cli.served import read_served
    from agent.serve.reads import incidents_search

    readings = _readings(args.reading)
    path = chosen_service(args)
    if path is not None:
        matches = read_served(path, lambda client: client.incidents(
            args.symptoms, equipment=args.equipment, readings=readings, k=args.k))
    else:
        with open_runtime(settings_from_args(args)) as runtime:
            twin = twin_of(runtime)
            matches = incidents_search(twin.conn, twin.embedder, symptoms=args.symptoms,
                                       equipment=args.equipment, readings=readings, k=args.k)
    if args.json:
        print_json(matches)
        return 0
    for m in matches:
        # The record as JSON (the same both ways): the day it opened is its ISO date.
        print(f"{m['score']:.3f}  {m['id']}  {str(m['opened_at'])[:10]}  "
              f"{', '.join(m['equipment'])}  [{m['fault_mode']}]  {m['title']}")
        print(f"       cause: {m['cause']}")
        print(f"       fix:   {m['fix']}  (downtime {m['downtime_h']:g} h)")
    return 0


def _reembed(args: argparse.Namespace) -> int:
    from agent.twin.incidents.memory import IncidentMemory

    with open_runtime(settings_from_args(args)) as runtime:
        twin = twin_of(runtime)
        count = IncidentMemory(twin.conn, twin.embedder, rebuild=True).count()
    print(f"re-embedded {count} incidents")
    return 0
