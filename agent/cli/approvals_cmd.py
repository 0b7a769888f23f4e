"""`plantagent approvals list|show|execute`, `plantagent approve ID`, `plantagent deny ID`.

These are the only ways to approve a plant write: a person at the command line (or the
UI, through the same ApprovalService). The approver's name and role come from the flags
or the settings (agent.user, agent.role), never from the model.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Iterator
from typing import Any

from agent.approvals.executor import ApprovedWriteExecutor, WriteOutcome
from agent.approvals.models import ApprovalRequest
from agent.approvals.service import ApprovalService
from agent.approvals.store import DATABASE_NAME, ApprovalStore
from agent.audit.site import open_audit_log
from agent.cli.common import print_json, settings_from_args
from agent.policy.loader import load_policy
from agent.settings import Settings
from agent.vault import open_site
from tools.opcua.client import OpcUaConnection

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
    parser.add_argument("--as", dest="user", default=None, help="who you are (default: agent.user)")
    parser.add_argument("--role", default=None, help="your role (default: agent.role)")
    parser.add_argument("--json", action="store_true", help="print JSON")


@contextlib.contextmanager
def open_service(settings: Settings) -> Iterator[ApprovalService]:
    """The site's approval service for one command: policy, encrypted store, audit log."""
    policy = load_policy(settings.home).policy
    with open_site(settings) as site:
        audit = open_audit_log(site)
        try:
            store = ApprovalStore.open(lambda: site.database(DATABASE_NAME, synchronous_full=True))
            yield ApprovalService(store, policy, audit)
        finally:
            audit.close()


def _who(args: argparse.Namespace, settings: Settings) -> tuple[str, str]:
    return args.user or settings.agent.user, args.role or settings.agent.role


def _line(r: ApprovalRequest) -> str:
    unit = f" {r.target.unit}" if r.target.unit else ""
    return (f"{r.id}  {r.state:<9} {r.target.tag} -> {r.value:g}{unit}  by {r.requested_by} "
            f"({r.requested_role})  expires {r.expires_at:%Y-%m-%d %H:%M}Z  {r.reason[:60]}")


def _list(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    with open_service(settings) as service:
        found = service.requests(set(args.state) if args.state else None)
    if args.json:
        print_json([r.model_dump(mode="json") for r in found])
    elif not found:
        sys.stdout.write("no approval requests\n")
    else:
        sys.stdout.write("\n".join(_line(r) for r in found) + "\n")
    return 0


def _show(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    with open_service(settings) as service:
        request = service.get(args.id)
    if args.json:
        print_json(request)
    else:
        for key, value in request.model_dump(mode="json").items():
            sys.stdout.write(f"{key}: {value}\n")
    return 0


def _approve(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    user, role = _who(args, settings)
    with open_service(settings) as service:
        request = service.approve(args.id, user=user, role=role)
        outcome = None if args.no_execute else asyncio.run(
            _run_write(settings, service, request.id, user, role)
        )
        request = service.get(request.id)
    _report(args, request, outcome)
    return 0


def _execute(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    user, role = _who(args, settings)
    with open_service(settings) as service:
        outcome = asyncio.run(_run_write(settings, service, args.id, user, role))
        request = service.get(args.id)
    _report(args, request, outcome)
    return 0


def _deny(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    user, role = _who(args, settings)
    with open_service(settings) as service:
        request = service.deny(args.id, user=user, role=role, note=args.note)
    _report(args, request, None)
    return 0


async def _run_write(
    settings: Settings, service: ApprovalService, request_id: str, user: str, role: str
) -> WriteOutcome:
    async with OpcUaConnection.from_settings(settings) as conn:
        return await ApprovedWriteExecutor(service, conn).execute(request_id, user=user, role=role)


def _report(
    args: argparse.Namespace, request: ApprovalRequest, outcome: WriteOutcome | None
) -> None:
    if args.json:
        print_json({"request": request.model_dump(mode="json"),
                    "write": outcome.model_dump(mode="json") if outcome else None})
        return
    if outcome is None:
        sys.stdout.write(f"{request.id} is {request.state}\n")
        return
    sys.stdout.write(
        f"{outcome.request}: wrote {outcome.tag} = {outcome.value:g} (was "
        f"{outcome.old_value:g}, reads back {outcome.read_back:g}); {outcome.undo_note}\n"
    )
