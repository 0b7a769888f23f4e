"""`plantagent handover [--since 8h]`: a grounded summary of the shift, every line cited;
`plantagent handover ack|acks`: the incoming shift lead's signed acknowledgement of it.

When the site service runs (its socket exists, or ``--service``), each goes through it
with no site passphrase: the handover is written by the service (its model, in line
with the questions) and recorded as the caller's; an acknowledgement is prepared by the
service and signed here with the caller's own key."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from agent.cli.common import (
    add_service_choice,
    chosen_service,
    open_runtime,
    person_signer,
    print_json,
    service_for_plant,
    settings_from_args,
)
from agent.durations import parse_duration
from agent.handover import HandoverReport, build_handover
from agent.handover.ack import Acknowledgement, acknowledge, acknowledgements, find_handover
from agent.handover.unloaded import UnloadedModel
from agent.llm.base import ChatModel
from agent.serve.client import ServiceClient
from agent.settings import Settings


def register(sub: Any) -> None:
    """Add the handover command."""
    handover = sub.add_parser(
        "handover",
        help="summary of the shift: alarms, triage, changes, open items, trends (cited)",
    )
    handover.add_argument("--since", default=None,
                          help="cover the last 30m, 8h, 1d instead of the site's shift "
                               "(default: the current shift by [site] shift_starts; within "
                               "the grace after a shift change, the one that just ended)")
    handover.add_argument("--json", action="store_true", help="print the full record as JSON")
    handover.add_argument("--endpoint", help="OPC UA endpoint URL (default: settings)")
    handover.add_argument("--no-model", action="store_true",
                          help="write it with the deterministic template, not the model")
    _service(handover)
    handover.set_defaults(handler=_handover)
    h_sub = handover.add_subparsers(dest="handover_command", metavar="ACTION")
    ack = h_sub.add_parser("ack", help="acknowledge the newest handover, signed with your "
                           "own key (the incoming shift lead)")
    ack.add_argument("--seq", type=int, default=None,
                     help="the handover's audit record (default: the newest handover)")
    ack.add_argument("--note", default="", help="a remark recorded with it")
    ack.add_argument("--as", dest="user", default=None,
                     help="your name (must be the person of your OS account)")
    ack.add_argument("--role", default=None, help="one of your own roles (shift_lead)")
    ack.add_argument("--key-file", default=None, help="your personal key file")
    _service(ack, nested=True)
    ack.set_defaults(handler=_ack)
    acks = h_sub.add_parser("acks", help="who acknowledged a handover, each signature "
                            "verified")
    acks.add_argument("--seq", type=int, default=None,
                      help="the handover's audit record (default: the newest handover)")
    acks.add_argument("--json", action="store_true", help="print JSON",
                      default=argparse.SUPPRESS)  # given before 'acks' too
    _service(acks, nested=True)
    acks.set_defaults(handler=_acks)


def _service(parser: argparse.ArgumentParser, *, nested: bool = False) -> None:
    add_service_choice(parser, service_help="go through the site service (no site "
                       "passphrase; you act as your own enrolled person)",
                       local_help="open the site in this process (needs the site passphrase)",
                       nested=nested)


def _over_service(args: argparse.Namespace, action: Literal["write", "ack", "acks"],
                  **fields: Any) -> dict[str, Any]:
    path = chosen_service(args)
    assert path is not None

    async def run() -> dict[str, Any]:
        async with ServiceClient(path, role=getattr(args, "role", None)) as client:
            return await client.handover(action, **fields)

    return asyncio.run(run())


def _progress(quiet: bool) -> Callable[[str], None]:
    def show(text: str) -> None:
        if not quiet:
            sys.stderr.write(f"  ... {text}\n")
            sys.stderr.flush()

    return show


async def run_handover(
    settings: Settings, *, since: timedelta | None, endpoint: str | None, use_model: bool,
    quiet: bool = False,
) -> HandoverReport:
    """Open the site's parts a handover reads (without loading a model for
    ``use_model=False``) and build it; a site whose model cannot load gets the template's
    handover, said so."""
    model: ChatModel | None = None if use_model else UnloadedModel("--no-model")
    async with open_runtime(settings, endpoint=endpoint) as runtime:
        sources = await runtime.shift_sources(model)
        # A model that would not load was replaced by an UnloadedModel (and said so).
        loaded = not isinstance(sources.model, UnloadedModel)
        return await build_handover(sources, since=since, use_model=loaded,
                                    on_progress=_progress(quiet))


def _handover(args: argparse.Namespace) -> int:
    # Bad input fails before anything is opened.
    since = parse_duration(args.since) if args.since is not None else None
    if service_for_plant(args) is not None:
        # Its place in line and its steps as the service sends them, as `ask` shows a
        # question's; Ctrl-C drops it (the service audits the cancellation).
        show = _progress(args.json)
        result = _over_service(args, "write", use_model=not args.no_model,
                               since_s=since.total_seconds() if since is not None else None,
                               on_event=lambda event: show(event.text))
        report = HandoverReport.model_validate(result["report"])
    else:
        report = asyncio.run(run_handover(
            settings_from_args(args), since=since, endpoint=args.endpoint,
            use_model=not args.no_model, quiet=args.json,
        ))
    if args.json:
        print_json(report)
    else:
        print(report.markdown(), end="")
    return 0


def _ack(args: argparse.Namespace) -> int:
    if chosen_service(args) is not None:
        done = _over_service(args, "ack", seq=args.seq, note=args.note, as_name=args.user,
                             sign=person_signer(args.key_file))
        h = done["handover"]
        print(f"{done['person']} ({done['role']}) acknowledged handover {h['seq']} (written "
              f"by {h['actor']} {datetime.fromisoformat(h['ts']):%Y-%m-%d %H:%M}Z), signed "
              f"with their own key: audit record {done['record']}")
        return 0
    with open_runtime(settings_from_args(args)) as runtime:
        handover = find_handover(runtime.audit, args.seq)
        actor = runtime.acting(name=args.user, role=args.role, key_file=args.key_file)
        record = acknowledge(runtime.audit, runtime.people, actor, handover, args.note)
    print(f"{actor.name} ({actor.role}) acknowledged handover {handover.seq} (written by "
          f"{handover.actor} {handover.ts:%Y-%m-%d %H:%M}Z), signed with their own key: "
          f"audit record {record.seq}")
    return 0


def _acks(args: argparse.Namespace) -> int:
    if chosen_service(args) is not None:
        result = _over_service(args, "acks", seq=args.seq)
        seq, actor = result["handover"]["seq"], result["handover"]["actor"]
        ts = datetime.fromisoformat(result["handover"]["ts"])
        done = [Acknowledgement(**{**a, "signed_at": datetime.fromisoformat(a["signed_at"])})
                for a in result["acknowledgements"]]
    else:
        with open_runtime(settings_from_args(args)) as runtime:
            handover = find_handover(runtime.audit, args.seq)
            done = acknowledgements(runtime.audit, runtime.people, handover)
        seq, actor, ts = handover.seq, handover.actor, handover.ts
    if args.json:
        print_json({"handover": seq, "acknowledgements": [vars(a) for a in done]})
        return 0
    print(f"handover {seq} (written by {actor} {ts:%Y-%m-%d %H:%M}Z):")
    if not done:
        print("  not acknowledged yet")
    for a in done:
        note = f": {a.note}" if a.note else ""
        print(f"  acknowledged by {a.shown} ({a.role}) {a.signed_at:%Y-%m-%d %H:%M}Z, "
              f"signature verified (record {a.record_seq}){note}")
    return 0
