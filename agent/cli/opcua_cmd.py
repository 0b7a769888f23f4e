"""`plantagent opcua browse|read|history|alarms`: look at the plant's OPC UA server."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from agent.cli.common import count, nested, open_runtime, print_json, settings_from_args
from agent.cli.numbers import readable
from agent.durations import parse_minutes
from agent.settings import Settings
from agent.site_time import SiteTime
from tools.context import utcnow
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection

T = TypeVar("T")


def register(sub: Any) -> None:
    """Add the opcua commands."""
    opcua = sub.add_parser("opcua", help="browse and read the plant's OPC UA server")
    actions = opcua.add_subparsers(dest="opcua_command", metavar="ACTION")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--endpoint", help="OPC UA endpoint URL (default: opcua.endpoint)")
        p.add_argument("--json", action="store_true", help="print JSON")

    browse = actions.add_parser("browse", help="list equipment and tags with units and ranges")
    common(browse)
    browse.set_defaults(handler=_browse)
    read = actions.add_parser("read", help="read the current value of tags")
    read.add_argument("tags", nargs="+", metavar="TAG", help="tag names, e.g. P-101.FlowRate")
    common(read)
    read.set_defaults(handler=_read)
    history = actions.add_parser("history", help="min/max/mean/last of a tag over a window")
    history.add_argument("tag", metavar="TAG")
    history.add_argument("--since", default="1h", help="window, e.g. 15m, 1h, 2d (default 1h)")
    history.add_argument("--points", type=count(0, 1_000_000), default=0,
                         help="also show this many samples")
    common(history)
    history.set_defaults(handler=_history)
    alarms = actions.add_parser("alarms", help="the alarms active now")
    common(alarms)
    alarms.set_defaults(handler=_alarms)


def _run(
    args: argparse.Namespace, work: Callable[[Settings, OpcUaConnection, Catalog], Awaitable[T]]
) -> T:
    settings = settings_from_args(args, **nested("opcua", endpoint=args.endpoint))

    async def main() -> T:
        # Reading the plant needs no key: the site is not unlocked, but its egress guard
        # is installed before the connection is made.
        async with open_runtime(settings) as runtime:
            # Progress goes to stderr so stdout stays clean for --json and pipes.
            print(f"connecting to {runtime.endpoint_url} ...", file=sys.stderr)
            conn = await runtime.connection()
            return await work(settings, conn, await runtime.catalog())

    return asyncio.run(main())


def _fmt(value: float | None) -> str:
    return readable(value, missing="")


def _browse(args: argparse.Namespace) -> int:
    async def work(s: Settings, conn: OpcUaConnection, catalog: Catalog) -> Catalog:
        return catalog

    catalog = _run(args, work)
    if args.json:
        print_json({"equipment": list(catalog.equipment.values())})
        return 0
    for eq in catalog.equipment.values():
        print(f"{eq.name}  ({'/'.join(eq.browse_path)})  {eq.description or ''}".rstrip())
        for tag in catalog.tags_of(eq.name):
            rng = f"[{_fmt(tag.eu_low)}..{_fmt(tag.eu_high)}]" if tag.eu_low is not None else ""
            print(f"  {tag.name:32} {tag.unit or '':8} {rng:18} {tag.description or ''}".rstrip())
    print(f"{len(catalog.equipment)} equipment, {len(catalog.tags)} tags", file=sys.stderr)
    return 0


def _read(args: argparse.Namespace) -> int:
    from tools.opcua.read import read_tags

    async def work(s: Settings, conn: OpcUaConnection, catalog: Catalog) -> Any:
        return await read_tags(
            conn,
            catalog,
            args.tags,
            clock=utcnow,
            stale_after_s=s.opcua.stale_after_s,
            max_tags=s.opcua.max_tags_per_read,
        )

    readings = _run(args, work)
    if args.json:
        print_json({"readings": readings})
        return 0
    for r in readings:
        # The status code, and the quality only where it says more ("Good good" did not).
        flags = [r.status] + ([r.quality] if r.quality.lower() != r.status.lower() else [])
        flags += ["stale"] if r.stale else []
        flags += [f"{r.out_of_limits} limit"] if r.out_of_limits else []
        print(f"{r.tag:32} {readable(r.value):>10} {r.unit or '':8} {' '.join(flags)}"
              .rstrip())
    return 0


def _history(args: argparse.Namespace) -> int:
    from tools.opcua.history import tag_history, window

    minutes = parse_minutes(args.since)

    async def work(s: Settings, conn: OpcUaConnection, catalog: Catalog) -> Any:
        start, end = window(utcnow(), minutes)
        return await tag_history(
            conn,
            catalog.tag(args.tag),
            start=start,
            end=end,
            settings=s.opcua,
            keep_points=max(0, args.points),
        )

    result = _run(args, work)
    if args.json:
        print_json(result)
        return 0
    sm = result.summary
    site = SiteTime.from_settings(settings_from_args(args))
    print(f"{sm.tag} over {args.since}: {sm.count} samples ({sm.bad_count} not good)")
    print(
        f"  min {_fmt(sm.min)}  max {_fmt(sm.max)}  mean {_fmt(sm.mean)}  "
        f"last {_fmt(sm.last)} {sm.unit or ''}"
    )
    if sm.truncated:
        print(f"  (cut at the point cap; the window stops at {site.show(sm.last_time)})")
    for p in result.points:
        print(f"  {site.show(p.time)}  {readable(p.value)}  {p.status}")
    return 0


def _alarms(args: argparse.Namespace) -> int:
    from tools.opcua.alarms import active_alarms

    async def work(s: Settings, conn: OpcUaConnection, catalog: Catalog) -> Any:
        return await active_alarms(conn, catalog)

    alarms = _run(args, work)
    if args.json:
        print_json({"alarms": alarms})
        return 0
    if not alarms:
        print("no active alarms")
    site = SiteTime.from_settings(settings_from_args(args))
    for a in alarms:
        print(f"{a.severity:5}  {a.source:32} {site.show(a.time)}  {a.message}")
    return 0
