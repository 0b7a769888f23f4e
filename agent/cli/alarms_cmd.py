"""`plantagent alarms list|ack|confirm|comment|shelve|unshelve|requests|approve|deny|report|record`.

The person acting is the enrolled person of the caller's OS account (the settings'
``agent.user`` only on a site where nobody is enrolled). In this process the site is
opened with its passphrase; through the site service (when its socket exists, or
``--service``: agent/cli/alarms_service.py) no site passphrase is needed. Shelve
decisions are signed with the caller's own key. Every
action goes through the policy gate and is audited; what is printed is what the server
reads back afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from agent.alarms.desk import AlarmRow
from agent.alarms.requests import ShelveRequest
from agent.cli import alarms_service
from agent.cli.common import (
    add_service_choice,
    nested,
    print_json,
    service_for_plant,
    settings_from_args,
)
from agent.durations import parse_duration
from agent.runtime.alarms import AlarmSession, open_alarm_desk
from tools.context import utcnow
from tools.opcua.alarm_actions import AlarmActionResult

T = TypeVar("T")


def register(sub: Any) -> None:
    """Add the alarm commands."""
    alarms = sub.add_parser("alarms", help="the plant's alarms: act on them, shelve, report")
    a = alarms.add_subparsers(dest="alarms_command", metavar="ACTION")

    def common(p: argparse.ArgumentParser, *, service: bool = True) -> None:
        p.add_argument("--endpoint", help="OPC UA endpoint URL (default: opcua.endpoint)")
        p.add_argument("--json", action="store_true", help="print JSON")
        if service:
            add_service_choice(p, service_help="go through the site service (no site "
                               "passphrase; you act as your own enrolled person)",
                               local_help="open the site and the plant in this process")

    lst = a.add_parser("list", help="the alarms the server holds: priority, state, time left")
    common(lst)
    lst.set_defaults(handler=_list)
    for name, helptext in (("ack", "acknowledge an alarm"), ("confirm", "confirm an alarm")):
        p = a.add_parser(name, help=helptext)
        p.add_argument("condition", help="as `alarms list` shows it, e.g. P-101.Vibration.High")
        p.add_argument("--comment", default="", help="a comment to go with it")
        p.add_argument("--event", default=None, help="EventId (hex) of the state acted on")
        common(p)
        p.set_defaults(handler=_action, action=name)
    comment = a.add_parser("comment", help="add a comment to an alarm")
    comment.add_argument("condition")
    comment.add_argument("text", help="the comment")
    comment.add_argument("--event", default=None, help="EventId (hex) of the state")
    common(comment)
    comment.set_defaults(handler=_action, action="comment")
    shelve = a.add_parser("shelve", help="ask to shelve an alarm (a request with a reason)")
    shelve.add_argument("condition")
    how = shelve.add_mutually_exclusive_group(required=True)
    how.add_argument("--for", dest="duration", help="timed shelve, e.g. 30m, 2h")
    how.add_argument("--one-shot", action="store_true",
                     help="until the alarm returns to normal")
    shelve.add_argument("--reason", required=True, help="why it should be shelved")
    common(shelve)
    shelve.set_defaults(handler=_shelve)
    unshelve = a.add_parser("unshelve", help="ask to unshelve an alarm")
    unshelve.add_argument("condition")
    unshelve.add_argument("--reason", required=True, help="why")
    common(unshelve)
    unshelve.set_defaults(handler=_unshelve)
    requests = a.add_parser("requests", help="shelve requests, newest first")
    requests.add_argument("--all", action="store_true", help="also the finished ones")
    common(requests)
    requests.set_defaults(handler=_requests)
    for name, helptext in (("approve", "approve a shelve request (then run it)"),
                           ("deny", "refuse a shelve request")):
        p = a.add_parser(name, help=helptext)
        p.add_argument("id", help="the request id, e.g. SH-1a2b3c4d")
        p.add_argument("--as", dest="user", default=None,
                       help="your name (must be the person of your OS account)")
        p.add_argument("--role", default=None, help="one of your own roles")
        p.add_argument("--key-file", default=None, help="your personal key file")
        if name == "deny":
            p.add_argument("--note", default="", help="why it was refused")
        common(p)
        p.set_defaults(handler=_decide, decision=name)
    report = a.add_parser("report", help="alarm performance (ISA-18.2 / IEC 62682)")
    report.add_argument("--since", default="30d", help="window, e.g. 8h, 7d (default 30d)")
    report.add_argument("--out", default=None, help="also write report.md, report.json and "
                        "PNG charts into this directory")
    common(report)
    report.set_defaults(handler=_report)
    record = a.add_parser("record", help="keep the site's alarm journal until interrupted "
                          "(with a site service: it records it; this says so)")
    record.add_argument("--endpoint", help="OPC UA endpoint URL (default: opcua.endpoint)")
    add_service_choice(record, service_help="ask the site service, which records the journal "
                       "while it runs (started now if it was not)",
                       local_help="record it in this process")
    record.set_defaults(handler=_record)


def _run(args: argparse.Namespace, work: Callable[[AlarmSession], Awaitable[T]],
         *, browse: bool = True) -> T:
    settings = settings_from_args(args, **nested("opcua", endpoint=args.endpoint))

    async def main() -> T:
        print(f"connecting to {settings.opcua.endpoint} ...", file=sys.stderr)
        async with open_alarm_desk(settings, browse=browse) as session:
            return await work(session)

    return asyncio.run(main())


def _who(args: argparse.Namespace, session: AlarmSession) -> tuple[str, str]:
    """The enrolled person of this OS account and their role (``--as``/``--role`` only
    choose among what the register allows); the settings' user where nobody is enrolled."""
    asker = session.asker(name=getattr(args, "user", None), role=getattr(args, "role", None))
    return asker.name, asker.role


def row_line(row: AlarmRow) -> str:
    """One alarm for the terminal."""
    s = row.state
    since = f"{s.active_since:%H:%M:%S}" if s.active_since else "?"
    return (f"{row.priority:8} {row.status:15} {s.name:34} {since:9} {row.left:9} "
            f"{s.message}").rstrip()


def _list(args: argparse.Namespace) -> int:
    async def work(session: AlarmSession) -> list[AlarmRow]:
        return await session.desk.board()

    path = service_for_plant(args)
    rows = alarms_service.board(path, args) if path is not None else _run(args, work)
    if args.json:
        print_json([{**r.state.model_dump(mode="json"), "priority": r.priority,
                     "status": r.status} for r in rows])
        return 0
    if not rows:
        print("no alarms held by the server")
        return 0
    print(f"{'PRIORITY':8} {'STATE':15} {'CONDITION':34} {'SINCE':9} {'LEFT':9} MESSAGE")
    for row in rows:
        print(row_line(row))
    return 0


def _print_result(args: argparse.Namespace, result: AlarmActionResult) -> int:
    if args.json:
        print_json(result)
        return 0
    print(result.summary)
    s = result.state
    print(f"  read back: acknowledged={s.acked} confirmed={s.confirmed} "
          f"shelving={s.shelving} comment={s.comment!r} event {s.event_id}")
    return 0


def _action(args: argparse.Namespace) -> int:
    async def work(session: AlarmSession) -> AlarmActionResult:
        user, role = _who(args, session)
        action = {"ack": "acknowledge"}.get(args.action, args.action)
        text = args.text if args.action == "comment" else args.comment
        return await session.desk.act(action, actor=user, role=role, condition=args.condition,
                                      event_id=args.event, comment=text)

    path = service_for_plant(args)
    if path is not None:
        return _print_result(args, alarms_service.action(path, args))
    return _print_result(args, _run(args, work))


def _print_request(args: argparse.Namespace, request: ShelveRequest) -> int:
    if args.json:
        print_json(request)
        return 0
    print(request.summary())
    if request.state == "pending":
        print(f"  waits for an approver ({' or '.join(request.approver_roles)}): "
              f"plantagent alarms approve {request.id}; expires "
              f"{request.expires_at:%H:%M} UTC")
    if request.outcome:
        print(f"  read back: {request.outcome}")
    return 0


def _shelve(args: argparse.Namespace) -> int:
    minutes = (None if args.one_shot
               else parse_duration(args.duration, option="--duration") / timedelta(minutes=1))

    async def work(session: AlarmSession) -> ShelveRequest:
        user, role = _who(args, session)
        return await session.desk.shelve(actor=user, role=role, condition=args.condition,
                                         minutes=minutes, reason=args.reason)

    path = service_for_plant(args)
    if path is not None:
        return _print_request(args, alarms_service.ask_shelve(path, args, minutes=minutes,
                                                              unshelve=False))
    return _print_request(args, _run(args, work))


def _unshelve(args: argparse.Namespace) -> int:
    async def work(session: AlarmSession) -> ShelveRequest:
        user, role = _who(args, session)
        return await session.desk.unshelve(actor=user, role=role, condition=args.condition,
                                           reason=args.reason)

    path = service_for_plant(args)
    if path is not None:
        return _print_request(args, alarms_service.ask_shelve(path, args, minutes=None,
                                                              unshelve=True))
    return _print_request(args, _run(args, work))


def _requests(args: argparse.Namespace) -> int:
    async def work(session: AlarmSession) -> list[ShelveRequest]:
        states = None if args.all else {"pending", "approved"}
        return await session.desk.shelving.requests(states)  # type: ignore[arg-type]

    path = service_for_plant(args)
    found = (alarms_service.requests(path, args) if path is not None
             else _run(args, work, browse=False))
    if args.json:
        print_json(found)
        return 0
    for r in found:
        print(f"{r.summary()}  asked by {r.requested_by} at {r.created_at:%m-%d %H:%M}: "
              f"{r.reason}")
    if not found:
        print("no open shelve requests" if not args.all else "no shelve requests")
    return 0


def _decide(args: argparse.Namespace) -> int:
    async def work(session: AlarmSession) -> ShelveRequest:
        shelving = session.desk.shelving
        await shelving.get(args.id)  # an unknown request is named before anyone is asked
        actor = session.acting(name=getattr(args, "user", None),
                               role=getattr(args, "role", None),
                               key_file=getattr(args, "key_file", None))
        if args.decision == "deny":
            return await shelving.deny(args.id, actor, note=args.note)
        await shelving.approve(args.id, actor)
        return await shelving.execute(args.id, actor)

    path = service_for_plant(args)
    if path is not None:
        return _print_request(args, alarms_service.decide(path, args))
    return _print_request(args, _run(args, work, browse=False))


def _report(args: argparse.Namespace) -> int:
    from agent.alarms.metrics import Rules
    from agent.alarms.report_files import ReportData, report_data, write_report_files
    from agent.alarms.report_text import markdown

    window = parse_duration(args.since)
    out = Path(args.out) if args.out else None
    if out is not None:
        from agent.alarms.charts import _pyplot

        _pyplot()  # a missing matplotlib is said before anything is read
    now = utcnow()

    async def work(session: AlarmSession) -> ReportData:
        rules = Rules.from_settings(session.settings.alarms,
                                    session.desk.shelving.policy.alarms)
        return await report_data(session.connection, session.desk.context.catalog,
                                 session.store, rules, since=now - window, until=now)

    path = service_for_plant(args)
    data = (alarms_service.report_data(path, args, since=now - window, until=now)
            if path is not None else _run(args, work))
    if out is not None:
        charts = write_report_files(data, out)
        print(f"wrote {out / 'report.md'}, report.json and {len(charts)} charts",
              file=sys.stderr)
    if args.json:
        print_json(data.report)
    else:
        sys.stdout.write(markdown(data.report))
    return 0


def _record(args: argparse.Namespace) -> int:
    from agent.alarms.journal import AlarmJournal
    from tools.opcua.alarms import event_log

    path = service_for_plant(args)
    if path is not None:
        print(alarms_service.journal(path, args))
        return 0

    async def work(session: AlarmSession) -> int:
        log = await event_log(session.connection, session.desk.context.catalog)
        journal = AlarmJournal(session.store, log, endpoint=session.connection.endpoint)
        await journal.start()
        print("recording the alarm journal; Ctrl+C stops", file=sys.stderr)
        try:
            while True:
                await asyncio.sleep(60)
                print(json.dumps({"time": datetime.now().isoformat(timespec="seconds"),
                                  "recorded": journal.recorded}), file=sys.stderr)
        finally:
            await journal.close()

    try:
        return _run(args, work)
    except KeyboardInterrupt:
        return 0

