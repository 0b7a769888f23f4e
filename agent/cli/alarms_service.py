"""The alarm commands through the site service (`plantagent alarms ...` when its socket
exists, or with ``--service``): the service acts as the caller the kernel names, in one
of their own roles; approving or denying a shelve request is signed here with the
caller's own key. No site passphrase, no OPC UA connection in this process."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from agent.alarms.desk import AlarmRow
from agent.alarms.report_files import ReportData, data_from_json
from agent.alarms.requests import ShelveRequest
from agent.cli.common import person_signer
from agent.errors import ServiceError, UsageError
from agent.serve.client import ServiceClient
from tools.opcua.alarm_actions import AlarmActionResult
from tools.opcua.models import ConditionState

T = TypeVar("T")


def _run(path: Path, args: argparse.Namespace,
         work: Callable[[ServiceClient], Awaitable[T]]) -> T:
    async def main() -> T:
        async with ServiceClient(path, role=getattr(args, "role", None)) as client:
            return await work(client)

    return asyncio.run(main())


def board(path: Path, args: argparse.Namespace) -> list[AlarmRow]:
    """The alarm board, as the service reads it."""
    items = _run(path, args, lambda c: c.alarms("board"))
    return [AlarmRow(ConditionState.model_validate(i["state"]), str(i["priority"]),
                     int(i["rank"])) for i in items]


def report_data(path: Path, args: argparse.Namespace, *, since: datetime,
                until: datetime) -> ReportData:
    """The alarm report's data for [since, until], read by the service."""
    return data_from_json(_run(path, args, lambda c: c.alarms_report(since, until)))


def journal(path: Path, args: argparse.Namespace) -> str:
    """What the service does with the alarm journal (it starts recording it when the
    settings want it and it did not); UsageError when the settings turn it off,
    ServiceError when the server cannot be subscribed to."""
    state = _run(path, args, lambda c: c.journal())
    if state.state == "off":
        raise UsageError(state.problem or "the alarm journal is off", fix=state.fix)
    if state.state == "unavailable":
        raise ServiceError(f"the site service cannot record the alarm journal: "
                           f"{state.problem}", fix=state.fix)
    if state.state == "started":
        return (f"the site service was not recording the alarm journal; it records it now "
                f"(from {state.endpoint}) for as long as it runs")
    return (f"the site service records the alarm journal (from {state.endpoint}; "
            f"{state.recorded} events since it started): nothing to run here")


def requests(path: Path, args: argparse.Namespace) -> list[ShelveRequest]:
    """The shelve requests (open ones; all with ``--all``)."""
    items = _run(path, args, lambda c: c.alarms("requests", every=args.all))
    return [ShelveRequest.model_validate(i) for i in items]


def action(path: Path, args: argparse.Namespace) -> AlarmActionResult:
    """Acknowledge, confirm or comment as the caller."""
    name = {"ack": "acknowledge"}.get(args.action, args.action)
    text = args.text if args.action == "comment" else args.comment
    result = _run(path, args, lambda c: c.alarm(name, condition=args.condition,
                                                event_id=args.event, comment=text))
    return AlarmActionResult.model_validate(result["action"])


def ask_shelve(path: Path, args: argparse.Namespace, *, minutes: float | None,
               unshelve: bool) -> ShelveRequest:
    """Ask to shelve (``minutes``; None: one-shot) or unshelve an alarm."""
    fields: dict[str, Any] = {"condition": args.condition, "reason": args.reason}
    if not unshelve:
        fields["minutes"] = minutes
    result = _run(path, args, lambda c: c.alarm("unshelve" if unshelve else "shelve",
                                                **fields))
    return ShelveRequest.model_validate(result["request"])


def decide(path: Path, args: argparse.Namespace) -> ShelveRequest:
    """Approve (then run) or deny a shelve request, signed with the caller's own key."""
    fields: dict[str, Any] = {"request": args.id, "as_name": args.user}
    if args.decision == "deny":
        fields["note"] = args.note
    result = _run(path, args, lambda c: c.alarm(args.decision, sign=person_signer(
        args.key_file), **fields))
    return ShelveRequest.model_validate(result["request"])
