"""`plantagent twin ...`: the digital twin's asset model, historian and what-if.

plantagent twin sync [--endpoint URL] [--json]       browse the server into the asset model
                     [--no-warm]                     (then prepare the model's prompt)
plantagent twin assets [--all] [--json]              equipment and tags as stored
plantagent twin semantics [--unresolved] [--json]    inferred quantity/equipment/class
plantagent twin record [--endpoint URL] [--duration S]   record value changes (foreground)
plantagent twin history TAG [--since 1h] [--json]    trend summary from the historian
plantagent twin whatif EQUIPMENT --set VAR=VALUE|ACTION [--hours H] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import timedelta
from typing import Any

from agent.cli.common import (
    add_service_choice,
    chosen_service,
    nested,
    open_runtime,
    print_json,
    settings_from_args,
)
from agent.cli.served import read_served
from agent.durations import parse_minutes
from agent.errors import OpcUaUnavailable, PlantAgentError, UsageError
from agent.runtime import SiteRuntime
from agent.serve import reads
from agent.twin.historian.analysis import TrendSummary
from agent.twin.whatif.records import WhatIfResult
from tools.context import utcnow

#: Raw samples older than this are folded into 1-minute rollups when recording starts.
RAW_KEEP_HOURS = 24.0


def register(sub: Any) -> None:
    """Add the twin commands."""
    twin = sub.add_parser("twin", help="digital twin: asset model, historian, what-if")
    actions = twin.add_subparsers(dest="twin_command", metavar="ACTION")

    sync = actions.add_parser("sync", help="browse the OPC UA server into the asset model")
    sync.add_argument("--endpoint", help="OPC UA endpoint URL (default: opcua.endpoint)")
    sync.add_argument("--json", action="store_true", help="print the sync report as JSON")
    sync.add_argument("--no-warm", action="store_true",
                      help="do not prepare the model's prompt for this plant afterwards")
    sync.set_defaults(handler=_sync)

    assets = actions.add_parser("assets", help="list equipment and tags of the asset model")
    assets.add_argument("--all", action="store_true", help="include retired ones")
    assets.add_argument("--json", action="store_true", help="print JSON")
    assets.add_argument("--semantics", action="store_true",
                        help="show the inferred semantics (as `twin semantics`)")
    _service(assets)
    assets.set_defaults(handler=_assets)

    semantics = actions.add_parser(
        "semantics", help="inferred quantity, equipment and class of every tag, with "
        "confidence and reason; the unresolved tags to name in assets.toml")
    semantics.add_argument("--unresolved", action="store_true",
                           help="list only the unresolved tags")
    semantics.add_argument("--json", action="store_true", help="print JSON")
    _service(semantics)
    semantics.set_defaults(handler=_semantics)

    record = actions.add_parser("record", help="record value changes into the historian")
    record.add_argument("--endpoint", help="OPC UA endpoint URL (default: opcua.endpoint)")
    record.add_argument("--duration", type=float, default=None, help="seconds (default: Ctrl-C)")
    record.add_argument("--period-ms", type=float, default=500.0, help="sampling interval")
    record.add_argument(
        "--give-up-after", type=float, default=30.0, metavar="S",
        help="stop with exit 1 when the server has not answered for S seconds (reconnecting "
        "meanwhile; default 30)",
    )
    record.add_argument(
        "--raw-hours",
        type=float,
        default=RAW_KEEP_HOURS,
        help="keep raw samples this long, then 1-minute rollups",
    )
    record.set_defaults(handler=_record)

    history = actions.add_parser("history", help="trend summary of a tag from the historian")
    history.add_argument("tag", metavar="TAG")
    history.add_argument("--since", default="1h", help="window, e.g. 15m, 1h, 2d (default 1h)")
    history.add_argument("--json", action="store_true", help="print JSON")
    _service(history)
    history.set_defaults(handler=_history)

    whatif = actions.add_parser("whatif", help="predict the effect of a change on equipment")
    whatif.add_argument("equipment", metavar="EQUIPMENT")
    whatif.add_argument(
        "--set",
        dest="change",
        required=True,
        metavar="VAR=VALUE|ACTION",
        help="e.g. setpoint=32, or an action: clean, replace_filter, clear_fault",
    )
    whatif.add_argument("--hours", type=float, default=2.0, help="horizon (default 2 h)")
    whatif.add_argument("--json", action="store_true", help="print JSON")
    _service(whatif)
    whatif.set_defaults(handler=_whatif)


def _service(parser: argparse.ArgumentParser) -> None:
    add_service_choice(parser, service_help="read it through the site service (no site "
                       "passphrase)",
                       local_help="open the site in this process (needs the site passphrase)")


def _sync(args: argparse.Namespace) -> int:
    from agent.twin.assets.file import assets_path, load_assets_file
    from agent.twin.whatif.engine import check_parameters

    settings = settings_from_args(args, **nested("opcua", endpoint=args.endpoint))
    path = assets_path(settings.home)
    site_file = load_assets_file(path)  # a typo fails before any connection is made
    check_parameters(site_file)

    async def sync() -> Any:
        async with open_runtime(settings) as runtime:
            print(f"browsing {runtime.endpoint_url} ...", file=sys.stderr)
            catalog = await runtime.catalog()
            # The embedding model (only if its file is in place) decides what the rules
            # could not; opened only when needed.
            report = runtime.twin.assets.sync(catalog, utcnow(), site_file, path,
                                              embedder=lambda: runtime.embedder)
            if not args.no_warm:
                await _warm(runtime)
            return report

    report = asyncio.run(sync())
    if args.json:
        print_json(report)
        return 0
    print(
        f"{report.active_equipment} equipment, {report.active_tags} tags active, "
        f"{report.retired_tags} retired"
    )
    for label, items in (
        ("added equipment", report.added_equipment),
        ("removed equipment", report.removed_equipment),
        ("added tags", report.added_tags),
        ("removed tags (now retired)", report.removed_tags),
        ("asset-file entries not on the server", report.unmatched_site_entries),
    ):
        if items:
            more = f" and {len(items) - 12} more (--json lists all)" if len(items) > 12 else ""
            print(f"{label} ({len(items)}): {', '.join(items[:12])}{more}")
    for change in [*report.changed_equipment, *report.changed_tags]:
        fields = "; ".join(f"{c.field}: {c.old!r} -> {c.new!r}" for c in change.changes)
        print(f"changed {change.name}: {fields}")
    if report.unchanged:
        print("no changes since the last sync")
    if report.unresolved_tags:
        print(f"{len(report.unresolved_tags)} tag(s) unresolved: "
              "`plantagent twin semantics --unresolved` lists them and why")
    return 0


async def _warm(runtime: SiteRuntime) -> None:
    """Evaluate the model's prompt prefix for this plant now and keep its state in the
    site, so the first question (of any later command) starts warm instead of paying for
    the whole prefix. Skipped, with the reason, when the model cannot be opened here."""
    try:
        agent = await runtime.agent()
        print("preparing the model's prompt for this plant (once; the first question then "
              "starts warm) ...", file=sys.stderr)
        tokens = await agent.warm()
    except PlantAgentError as exc:  # the sync itself is done and stored: say, go on
        print(f"the model's prompt was not prepared: {exc.message}"
              + (f" ({exc.fix})" if exc.fix else ""), file=sys.stderr)
        return
    if tokens:
        print(f"prepared: {tokens} prompt tokens evaluated and kept", file=sys.stderr)


def _semantics(args: argparse.Namespace) -> int:
    path = chosen_service(args)
    if path is not None:
        semantics = reads.semantics_from_json(
            read_served(path, lambda client: client.twin("semantics")))
    else:
        with open_runtime(settings_from_args(args)) as runtime:
            semantics = reads.semantics(runtime.twin)
    unresolved = semantics.unresolved()
    if args.json:
        print_json({
            "equipment": [e.to_json() for e in semantics.equipment.values()],
            "tags": [t.to_json() for t in semantics.tags.values()],
            "unresolved": [t.tag for t in unresolved],
        })
        return 0
    if not semantics.tags:
        print("no semantics yet: run `plantagent twin sync`", file=sys.stderr)
        return 1
    if not args.unresolved:
        for eq in semantics.equipment.values():
            print(f"{eq.name}  [{eq.eq_class or 'class unknown'} {eq.confidence:.2f}]  "
                  + "; ".join(eq.reasons[:3]))
            for t in semantics.tags_of(eq.name):
                print(f"    {t.tag}  {t.role} ({t.function})  {t.confidence:.2f}  "
                      + "; ".join(t.reasons[:3]))
    if unresolved:
        print(f"\n{len(unresolved)} unresolved tag(s): name them in assets.toml "
              "([tag.\"NAME\"] quantity/equipment), then `plantagent twin sync`:")
        for t in unresolved:
            what = [] if t.quantity and t.confidence >= 0.5 else ["quantity"]
            what += [] if t.equipment and t.equipment_confidence >= 0.5 else ["equipment"]
            print(f"    {t.tag}  unknown {' and '.join(what)}: " + "; ".join(t.reasons))
    else:
        print("\nevery tag resolved")
    return 0


def _assets(args: argparse.Namespace) -> int:
    if args.semantics:
        args.unresolved = False
        return _semantics(args)
    path = chosen_service(args)
    if path is not None:
        equipment = reads.assets_from_json(
            read_served(path, lambda client: client.twin("assets", every=args.all)))
    else:
        with open_runtime(settings_from_args(args)) as runtime:
            equipment = reads.assets(runtime.twin, include_retired=args.all)
    if args.json:
        print_json(equipment)
        return 0
    if not equipment:
        print("the asset model is empty: run `plantagent twin sync`", file=sys.stderr)
        return 1
    for eq in equipment:
        extra = ", ".join(
            x
            for x in (eq.eq_class, eq.criticality, eq.status if eq.status != "active" else None)
            if x
        )
        print(f"{eq.name}  {eq.path}" + (f"  [{extra}]" if extra else ""))
        for tag in eq.tags:
            rng = "" if tag.low is None or tag.high is None else f"  {tag.low:g}..{tag.high:g}"
            unit = f" {tag.unit}" if tag.unit else ""
            flag = "  (retired)" if tag.status == "retired" else ""
            print(f"    {tag.name}{unit}{rng}{flag}")
    return 0


def _history(args: argparse.Namespace) -> int:
    minutes, now = parse_minutes(args.since), utcnow()
    path = chosen_service(args)
    if path is not None:
        summary = TrendSummary.model_validate(read_served(
            path, lambda client: client.history(args.tag, minutes=minutes, now=now)))
    else:
        with open_runtime(settings_from_args(args)) as runtime:
            summary = reads.history(runtime.twin, args.tag, minutes=minutes, now=now)
    if args.json:
        print_json(summary)
        return 0
    s, unit = summary, f" {summary.unit}" if summary.unit else ""
    print(f"{s.tag} over {args.since} ({s.resolution}): {s.count} samples")
    if s.count:
        print(f"  min {s.min:g}  max {s.max:g}  mean {s.mean:g}  last {s.last:g}{unit}")
        if s.slope_per_hour is not None:
            print(f"  trend {s.slope_per_hour:+.4g}{unit}/h")
        if s.minutes_above_high or s.minutes_below_low:
            print(
                f"  above high {s.minutes_above_high:g} min, below low {s.minutes_below_low:g} min"
            )
    for gap in s.gaps:
        print(f"  gap {gap.start:%H:%M:%S} - {gap.end:%H:%M:%S} ({gap.minutes:g} min)")
    return 0


def _record(args: argparse.Namespace) -> int:
    if args.duration is not None and not 0 < args.duration < 10 * 365 * 86400:
        raise UsageError(f"--duration {args.duration:g} is not a number of seconds it can wait",
                         fix="give seconds, e.g. --duration 60, or leave it out to record "
                         "until Ctrl-C")
    if not 0 < args.give_up_after <= 86400:
        raise UsageError(f"--give-up-after {args.give_up_after:g} is out of range",
                         fix="give seconds between 1 and 86400, e.g. --give-up-after 30")
    if not 1 <= args.period_ms <= 3_600_000:
        raise UsageError(f"--period-ms {args.period_ms:g} is out of range",
                         fix="give a sampling interval between 1 ms and one hour")
    settings = settings_from_args(args, **nested("opcua", endpoint=args.endpoint))

    async def main() -> None:
        async with open_runtime(settings) as runtime:
            await _record_into(runtime, args)

    asyncio.run(main())
    return 0


async def _record_into(runtime: SiteRuntime, args: argparse.Namespace) -> None:
    from agent.twin.historian.recorder import Recorder

    historian, days = runtime.twin.historian, runtime.policy.retention.history_days
    now = utcnow()
    await asyncio.to_thread(historian.apply_retention, days, now)
    await asyncio.to_thread(historian.downsample, now - timedelta(hours=args.raw_hours))
    print(f"connecting to {runtime.endpoint_url} ...", file=sys.stderr)
    conn, catalog = await runtime.connection(), await runtime.catalog()
    recorder = Recorder(historian, conn, list(catalog.tags.values()), period_ms=args.period_ms)
    print(f"recording {len(catalog)} tags (Ctrl-C stops)", file=sys.stderr)
    async with recorder:
        end = time.monotonic() + (args.duration or float("inf"))
        try:
            while time.monotonic() < end:
                await asyncio.sleep(min(1.0, max(end - time.monotonic(), 0.0)))
                _progress(recorder.stats)
                down = recorder.down_s()
                if down > args.give_up_after:
                    _progress(recorder.stats, final=True)
                    raise OpcUaUnavailable(
                        f"the OPC UA server at {runtime.endpoint_url} has not answered for "
                        f"{down:.0f} s (reconnecting all along); recording stopped with "
                        f"{recorder.stats.ingested} values stored",
                        fix="check the server and the network, then run `plantagent twin "
                        "record` again (what was stored is kept)")
        except asyncio.CancelledError:
            pass
    _progress(recorder.stats, final=True)


def _progress(stats: Any, *, final: bool = False) -> None:
    produced, ingested = stats.rates()
    line = (
        f"  {stats.elapsed_s:6.0f} s  received {stats.produced}  stored {stats.ingested}  "
        f"({produced:.0f}/s in, {ingested:.0f}/s stored)  queue {stats.pending}  "
        f"lag {stats.last_lag_s:.2f} s (max {stats.max_lag_s:.2f} s)"
    )
    end = "\n" if final or not sys.stderr.isatty() else "\r"
    sys.stderr.write(line + end)
    sys.stderr.flush()


def _whatif(args: argparse.Namespace) -> int:
    now = utcnow()
    path = chosen_service(args)
    if path is not None:
        result = WhatIfResult.model_validate(read_served(
            path, lambda client: client.what_if(args.equipment, args.change,
                                                hours=args.hours, now=now)))
    else:
        with open_runtime(settings_from_args(args)) as runtime:
            result = reads.what_if(runtime.twin, args.equipment, args.change,
                                   hours=args.hours, now=now)
    if args.json:
        print_json(result)
        return 0
    print(f"{result.equipment} ({result.eq_class}): {result.change} over {result.hours:g} h")
    for f in result.fitted:
        print(f"  fitted {f.name} = {f.value:g} {f.unit} ({f.method}, {f.samples} samples)")
    print(f"  {'tag':34} {'now':>9} {'with':>9} {'without':>9}")
    for p in result.predictions:
        print(f"  {p.tag:34} {p.now:9.4g} {p.end:9.4g} {p.baseline_end:9.4g} {p.unit or ''}")
    for label, crossings in (
        ("with the change", result.crossings),
        ("without it", result.baseline_crossings),
    ):
        for c in crossings:
            print(
                f"  {label}: {c.tag} {c.kind} its {c.side} limit {c.limit:g} after "
                f"{c.after_minutes:g} min ({c.value:g})"
            )
    return 0
