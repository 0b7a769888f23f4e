"""`plantagent triage`: automated incident triage (one pass, a watcher, stored reports)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from agent.cli.common import (
    add_service_choice,
    chosen_service,
    count,
    open_runtime,
    print_json,
    settings_from_args,
)
from agent.cli.served import read_served
from agent.runtime import SiteRuntime
from agent.serve.reads import triage_lines, triage_rows
from agent.site_time import SiteTime
from agent.triage.models import TriageReport
from agent.triage.service import TriageService
from agent.triage.writer import ModelWriter


def register(sub: Any) -> None:
    """Add the triage commands."""
    triage = sub.add_parser("triage", help="automated incident triage of alarms and trends")
    actions = triage.add_subparsers(dest="triage_command", metavar="ACTION", required=True)
    run = actions.add_parser("run", help="one pass over what is active now")
    watch = actions.add_parser("watch", help="keep watching until Ctrl-C / SIGTERM")
    for p in (run, watch):
        p.add_argument("--endpoint", default=None, help="OPC UA endpoint URL (default: settings)")
        p.add_argument("--no-model", action="store_true",
                       help="write reports with the deterministic template, not the model")
    run.add_argument("--json", action="store_true", help="print the reports as JSON")
    run.set_defaults(handler=_run)
    watch.add_argument("--interval", type=float, default=None,
                       help="seconds between passes (default: [triage] interval_s, 30)")
    watch.set_defaults(handler=_watch)
    reports = actions.add_parser("reports", help="list stored triage reports")
    reports.add_argument("--json", action="store_true", help="print JSON")
    reports.add_argument("--limit", type=count(), default=50, help="how many, newest first")
    _service_choice(reports)
    reports.set_defaults(handler=_reports)
    show = actions.add_parser("show", help="show one report (Markdown)")
    show.add_argument("id", help="report id, see `plantagent triage reports`")
    show.add_argument("--json", action="store_true", help="print JSON")
    _service_choice(show)
    show.set_defaults(handler=_show)


def _service_choice(parser: argparse.ArgumentParser) -> None:
    add_service_choice(parser, service_help="read it through the site service (no site "
                       "passphrase)",
                       local_help="open the site in this process (needs the site passphrase)")


def _progress(text: str) -> None:
    sys.stderr.write(f"  ... {text}\n")
    sys.stderr.flush()


async def _service(runtime: SiteRuntime, args: argparse.Namespace, *, events: bool
                   ) -> tuple[TriageService, str]:
    """The triage service and who writes its summaries ("template" or "model:NAME").
    Without a usable local model the template writes (and that is said)."""
    use_model = runtime.settings.triage.use_model and not args.no_model
    await runtime.catalog()  # an unreachable plant fails before the (slow) model load
    writer = await runtime.report_writer(use_model=use_model)
    name = f"model:{writer.model.info.name}" if isinstance(writer, ModelWriter) else "template"
    return await runtime.triage(writer=writer, events=events), name


def _run(args: argparse.Namespace) -> int:
    from agent.triage.render import markdown

    settings = settings_from_args(args)

    async def go() -> int:
        async with open_runtime(settings, endpoint=args.endpoint) as runtime:
            service, _ = await _service(runtime, args, events=False)
            res = await service.run_once(None if args.json else _progress)
        if args.json:
            print_json({"reports": res.reports, "skipped": res.skipped, "merged": res.merged,
                        "error": res.error})
        else:
            for r in res.reports:
                print(markdown(r, SiteTime.from_settings(settings)))
            print(f"{len(res.reports)} new report(s), {res.skipped} already reported"
                  + (f"; server problem: {res.error}" if res.error else ""))
        return 1 if res.error else 0

    return asyncio.run(go())


def _watch(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)

    async def go() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with open_runtime(settings, endpoint=args.endpoint) as runtime:
            service, writer = await _service(runtime, args, events=True)
            _progress(f"watching (writer {writer}); Ctrl-C stops")
            made = await service.watch(stop, interval_s=args.interval
                                       or settings.triage.interval_s, progress=_progress)
        _progress(f"stopped; {made} report(s) this run")
        return 0

    return asyncio.run(go())


def _reports(args: argparse.Namespace) -> int:
    path = chosen_service(args)
    if path is not None:
        listed = read_served(path, lambda client: client.triage(limit=args.limit))
        reports = [TriageReport.model_validate(r) for r in listed.reports]
        lines = listed.lines
    else:
        settings = settings_from_args(args)
        with open_runtime(settings) as runtime:
            reports = runtime.reports.list(args.limit)
        lines = triage_lines(reports, SiteTime.from_settings(settings))
    if args.json:
        print_json(triage_rows(reports))
        return 0
    if not reports:
        print("no triage reports yet (run `plantagent triage run`)")
    for line in lines:
        print(line)
    return 0


def _show(args: argparse.Namespace) -> int:
    from agent.triage.render import markdown

    path = chosen_service(args)
    if path is not None:
        shown = read_served(path, lambda client: client.triage(report=args.id))
        report, text = TriageReport.model_validate(shown.reports[0]), shown.markdown or ""
    else:
        settings = settings_from_args(args)
        with open_runtime(settings) as runtime:
            report, _stored = runtime.reports.get(args.id)
        text = markdown(report, SiteTime.from_settings(settings))
    if args.json:
        print_json(report)
    else:
        print(text)
    return 0
