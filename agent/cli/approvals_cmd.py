"""`plantagent approvals list|show|execute`, `plantagent approve ID`, `plantagent deny ID`.

These are the only ways to approve a plant write: a person at the command line (or the
UI, through the same ApprovalService). The approver is the enrolled person of the OS
account running the command (agent.people); ``--as`` and ``--role`` only select among
that person's own name and roles, and every decision is signed with the person's key
(their passphrase from PLANTAGENT_PERSON_PASSPHRASE or the terminal, or ``--key-file``).

When the site service runs (its socket exists, or ``--service``), every command goes
through it with no site passphrase: the service prepares each statement, this process
signs it with the person's own key (agent.serve.local_signing), the service checks and
records it. ``--no-service`` opens the site in this process, as before.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, Literal

from agent.approvals.executor import ApprovedWriteExecutor, WriteOutcome
from agent.approvals.models import ApprovalRequest
from agent.cli.common import (
    add_service_choice,
    chosen_service,
    open_runtime,
    person_signer,
    print_json,
    settings_from_args,
)
from agent.people.identity import Acting
from agent.runtime import SiteRuntime
from agent.serve.client import ServiceClient

STATES = ("pending", "approved", "denied", "expired", "executing", "executed", "failed")


def register(sub: Any) -> None:
    """Add the approval commands."""
    approvals = sub.add_parser("approvals", help="list, show or execute approval requests")
    a_sub = approvals.add_subparsers(dest="approvals_command", metavar="ACTION")
    lst = a_sub.add_parser("list", help="list approval requests, newest first")
    lst.add_argument("--state", choices=STATES, action="append", help="only these states")
    lst.add_argument("--json", action="store_true", help="print JSON")
    _service(lst)
    lst.set_defaults(handler=_list)
    show = a_sub.add_parser("show", help="show one request")
    show.add_argument("id")
    show.add_argument("--json", action="store_true", help="print JSON")
    _service(show)
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
    _service(parser)


def _service(parser: argparse.ArgumentParser) -> None:
    add_service_choice(parser, service_help="go through the site service (no site "
                       "passphrase; you sign with your own key)",
                       local_help="open the site in this process (needs the site passphrase)")


def _over_service(args: argparse.Namespace, action: Literal["approve", "deny", "execute"]
                  ) -> int:
    """approve / deny / execute through the site service."""
    path = chosen_service(args)
    assert path is not None

    async def act() -> dict[str, Any]:
        async with ServiceClient(path, role=args.role) as client:
            return await client.act(action, args.id, sign=person_signer(args.key_file),
                                    as_name=args.user, note=getattr(args, "note", ""),
                                    execute=action == "approve" and not args.no_execute)

    result = asyncio.run(act())
    write = result.get("write")
    _report(args, ApprovalRequest.model_validate(result["request"]),
            WriteOutcome.model_validate(write) if write else None)
    return 0


def _read_over_service(args: argparse.Namespace, *, request: str | None = None,
                       states: list[str] | None = None) -> list[ApprovalRequest]:
    path = chosen_service(args)
    assert path is not None

    async def read() -> list[dict[str, Any]]:
        async with ServiceClient(path) as client:
            return await client.approvals(request=request, states=states)

    return [ApprovalRequest.model_validate(r) for r in asyncio.run(read())]


def _who(args: argparse.Namespace, runtime: SiteRuntime) -> Acting:
    runtime.approvals.get(args.id)  # an unknown request is named before anyone is asked
    return runtime.acting(name=args.user, role=args.role, key_file=args.key_file)


def _line(r: ApprovalRequest) -> str:
    unit = f" {r.target.unit}" if r.target.unit else ""
    return (f"{r.id}  {r.state:<9} {r.target.tag} -> {r.value:g}{unit}  by {r.requested_by} "
            f"({r.requested_role})  expires {r.expires_at:%Y-%m-%d %H:%M}Z  {r.reason[:60]}")


def _list(args: argparse.Namespace) -> int:
    if chosen_service(args) is not None:
        found = _read_over_service(args, states=args.state)
    else:
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
    if chosen_service(args) is not None:
        request = _read_over_service(args, request=args.id)[0]
    else:
        with open_runtime(settings_from_args(args)) as runtime:
            request = runtime.approvals.get(args.id)
    if args.json:
        print_json(request)
    else:
        for key, value in request.model_dump(mode="json").items():
            sys.stdout.write(f"{key}: {value}\n")
    return 0


def _approve(args: argparse.Namespace) -> int:
    if chosen_service(args) is not None:
        return _over_service(args, "approve")
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
    if chosen_service(args) is not None:
        return _over_service(args, "execute")
    settings = settings_from_args(args)

    async def execute() -> tuple[ApprovalRequest, WriteOutcome]:
        async with open_runtime(settings) as runtime:
            outcome = await _execute_in(runtime, args.id, _who(args, runtime))
            return runtime.approvals.get(args.id), outcome

    request, outcome = asyncio.run(execute())
    _report(args, request, outcome)
    return 0


def _deny(args: argparse.Namespace) -> int:
    if chosen_service(args) is not None:
        return _over_service(args, "deny")
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
