"""`plantagent ask "QUESTION"`: answer from live plant data, with citations."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from agent.cli.common import (
    add_service_choice,
    chosen_service,
    open_runtime,
    print_json,
    settings_from_args,
)
from agent.errors import UsageError
from agent.pipeline.answer import AgentAnswer
from agent.pipeline.events import AgentEvent
from agent.serve.client import AgentClient, ServiceClient
from agent.settings import Settings


def register(sub: Any) -> None:
    """Add the ask command."""
    ask = sub.add_parser("ask", help="ask a question about the plant")
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument("--endpoint", help="OPC UA endpoint URL (default: settings)")
    ask.add_argument("--json", action="store_true", help="print the full record as JSON")
    ask.add_argument("--as", dest="user", help="your name as enrolled (the asker is the "
                     "person of your OS account; on a shared-account site, the person "
                     "named, with their own key)")
    ask.add_argument("--role", help="one of your own roles (default: settings' role if "
                     "yours)")
    add_service_choice(ask, service_help="ask the site service (plantagent serve)",
                       local_help="answer in this process (the single-user demo; needs the "
                       "site passphrase)")
    ask.set_defaults(handler=_ask)


def progress_printer(quiet: bool) -> Any:
    """A callback that shows what the agent is doing on stderr, so it never looks frozen."""

    def show(event: AgentEvent) -> None:
        if quiet or event.kind == "token" or event.kind == "answer":
            return
        sys.stderr.write(f"  ... {event.text}\n")
        sys.stderr.flush()

    return show


def render_answer(answer: AgentAnswer) -> str:
    """The answer as a person reads it: text, verdict, then what each citation holds."""
    lines = [answer.answer, ""]
    if answer.outcome == "answered":
        verdict = "grounded" if answer.grounded else "NOT fully grounded"
        lines.append(f"[{verdict}; written by {answer.written_by}; "
                     f"{answer.timings.total_s:.1f} s; model {answer.model}]")
        for claim in answer.unsupported:
            lines.append(f"  unverified {claim.kind}: {claim.text} ({claim.reason})")
    for step in answer.steps:
        if step.evidence_id and step.evidence_id in answer.citations:
            args = ", ".join(f"{k}={v}" for k, v in step.args.items())
            lines.append(f"  {step.evidence_id}: {step.tool}({args})")
    return "\n".join(lines).rstrip()


async def run_question(
    settings: Settings, question: str, *, endpoint: str | None, quiet: bool,
    name: str | None = None, role: str | None = None,
) -> AgentAnswer:
    """Build the agent from settings and answer one question in this process, asked by
    the register's person of this OS account (``name`` / ``role``: ``--as`` / ``--role``,
    which only select; agent.people.identity.identify_asker)."""
    async with open_runtime(settings, endpoint=endpoint) as runtime:
        asker = runtime.asker(name=name, role=role)
        client = AgentClient(await runtime.agent(), actor=asker.name, role=asker.role)
        return await client.ask(question, progress_printer(quiet))


async def ask_service(path: Path, question: str, *, role: str | None,
                      quiet: bool) -> AgentAnswer:
    """Ask the site service listening on ``path``: it knows the caller by their OS
    account; no passphrase is needed here."""
    async with ServiceClient(path, role=role) as client:
        return await client.ask(question, progress_printer(quiet))


def _ask(args: argparse.Namespace) -> int:
    path = chosen_service(args)
    if path is not None:
        if args.user or args.endpoint:
            raise UsageError("--as and --endpoint are not for the site service: it knows "
                             "you by your OS account and reads its own plant",
                             fix="leave them out, or answer here with --no-service")
        answer = asyncio.run(ask_service(path, args.question, role=args.role,
                                         quiet=args.json))
    else:
        settings = settings_from_args(args)
        answer = asyncio.run(run_question(settings, args.question, endpoint=args.endpoint,
                                          quiet=args.json, name=args.user, role=args.role))
    if args.json:
        print_json(answer)
    else:
        print(render_answer(answer))
    return 0 if answer.outcome != "budget_exhausted" else 1
