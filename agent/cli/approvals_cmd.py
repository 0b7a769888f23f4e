"""`plantagent approvals list|show|execute`, `plantagent approve ID`, `plantagent deny ID`.

These are the only ways to approve a plant write: a person at the command line (or the
UI, through the same ApprovalService). The approver is the enrolled person of the OS
account running the command (agent.people); ``--as`` and ``--role`` only select among
that person's own name and roles, and every decision is signed with the person's key
(their passphrase from PLANTAGENT_PERSON_PASSPHRASE or the terminal, or ``--key-file``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from agent.approvals.executor import ApprovedWriteExecutor, WriteOutcome
from agent.approvals.models import ApprovalRequest
from agent.cli.common import open_runtime, print_json, settings_from_args
from agent.people.identity import Acting
from agent.runtime import SiteRuntime

STATES = ("pending", "approved", "denied", "expired", "executing", "executed", "failed")


def register(sub: Any) -> None:
    """Add the approval commands."""
    approvals = sub.add_parser("approvals", help="list, show or execute approval requests")
    a_sub = approvals.add_subparsers(dest="approvals_command", metavar="ACTION")
    lst = a_sub.add_parser("list", help="list approval requests, newest first")
    lst.add_argument("--state", choices=STATES, action="append", help="only these states")
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(handler=_list)
    show = a_sub.add_parser("show", help="show one request")
    show.add_argument("id")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=_show)
    execute = a_sub.add_parser("execute", help="write an approved request to the plant")
    _identity(execute)
    execute.set_defaults(handler=_execute)

    approve = sub.add_parser("approve", help="approve a pending write (then write it)")
    _identity(approve)
    approve.add_argument(
        "--no-execute", action="store_true", help="only approve; write later with "
        "`plantagent approvals execute ID`",
    )
    approve.set_defaults(handler=_approve)
    deny = sub.add_parser("deny", help="refuse a pending or approved write")
    _identity(deny)
    deny.add_argument("--note", default="", help="why it was refused")
    deny.set_defaults(handler=_deny)


def _identity(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", help="the request id, e.g. AP-1a2b3c4d")
    parser.add_argument("--as", dest="user", default=None,
                        help="your name (must be the person of your OS account)")
    parser.add_argument("--role", default=None, help="one of your own roles")
    parser.add_argument("--key-file", default=None, help="your personal key file")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _who(args: argparse.Namespace, runtime: SiteRuntime) -> Acting:
    runtime.approvals.get(args.id)  # an unknown request is named before anyone is asked
    return runtime.acting(name=args.user, role=args.role, key_file=args.key_file)


def _line(r: ApprovalRequest) -> str:
    unit = f" {r.target.unit}" if r.target.unit else ""
    return (f"{r.id}  {r.state:<9} {r.target.tag} -> {r.value:g}{unit}  by {r.requested_by} "
            f"({r.requested_role})  expires {r.expires_at:%Y-%m-%d %H:%M}Z  {r.reason[:60]}")


def _list(args: argparse.Namespace) -> int:
    with open_runtime(settings_from_args(args)) as runtime:
        found = runtime.approvals.requests(set(args.state) if args.state else None)
    if args.json:
        print_json([r.model_dump(mode="json") for r in found])
    elif not found:
        sys.stdout.write("no approval requests\n")
    else:
        sys.stdout.write("\n".join(_line(r) for r in found) + "\n")
    return 0


def _show(args: argparse.Namespace) -> int:
    with open_runtime(settings_from_args(args)) as runtime:
        request = runtime.approvals.get(args.id)
    if args.json:
        print_json(request)
    else:
        for key, value in request.model_dump(mode="json").items():
            sys.stdout.write(f"{key}: {value}\n")
    return 0


def _approve(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)

    async def approve() -> tuple[ApprovalRequest, WriteOutcome | None]:
        async with open_runtime(settings) as runtime:
            actor = _who(args, runtime)
            request = runtime.approvals.approve(args.id, actor)
            outcome = None
            if not args.no_execute and request.state == "approved":  # the plant only now
                outcome = await _execute_in(runtime, request.id, actor)
            return runtime.approvals.get(request.id), outcome

    request, outcome = asyncio.run(approve())
    _report(args, request, outcome)
    return 0


def _execute(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)

    async def execute() -> tuple[ApprovalRequest, WriteOutcome]:
        async with open_runtime(settings) as runtime:
            outcome = await _execute_in(runtime, args.id, _who(args, runtime))
            return runtime.approvals.get(args.id), outcome

    request, outcome = asyncio.run(execute())
    _report(args, request, outcome)
    return 0


def _deny(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    with open_runtime(settings) as runtime:
        request = runtime.approvals.deny(args.id, _who(args, runtime), note=args.note)
    _report(args, request, None)
    return 0


async def _execute_in(runtime: SiteRuntime, request_id: str, actor: Acting) -> WriteOutcome:
    executor = ApprovedWriteExecutor(runtime.approvals, await runtime.connection())
    return await executor.execute(request_id, actor)


def _report(
    args: argparse.Namespace, request: ApprovalRequest, outcome: WriteOutcome | None
) -> None:
    if args.json:
        print_json({"request": request.model_dump(mode="json"),
                    "write": outcome.model_dump(mode="json") if outcome else None})
        return
    if outcome is None:
        signed = ", ".join(f"{a.person} ({a.role})" for a in request.approvals)
        sys.stdout.write(f"{request.id} is {request.state}"
                         + (f"; signed approvals: {signed}" if signed else "") + "\n")
        return
    sys.stdout.write(
        f"{outcome.request}: wrote {outcome.tag} = {outcome.value:g} (was "
        f"{outcome.old_value:g}, reads back {outcome.read_back:g}); {outcome.undo_note}\n"
    )
