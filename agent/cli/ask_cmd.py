"""`plantagent ask "QUESTION"`: answer from live plant data, with citations."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from agent.cli.common import open_runtime, print_json, settings_from_args
from agent.pipeline.answer import AgentAnswer
from agent.pipeline.events import AgentEvent
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
    """Build the agent from settings and answer one question, asked by the register's
    person of this OS account (``name`` / ``role``: ``--as`` / ``--role``, which only
    select; agent.people.identity.identify_asker)."""
    async with open_runtime(settings, endpoint=endpoint) as runtime:
        asker = runtime.asker(name=name, role=role)
        agent = await runtime.agent()
        return await agent.ask(
            question,
            actor=asker.name,
            role=asker.role,
            on_event=progress_printer(quiet),
        )


def _ask(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    answer = asyncio.run(run_question(settings, args.question, endpoint=args.endpoint,
                                      quiet=args.json, name=args.user, role=args.role))
    if args.json:
        print_json(answer)
    else:
        print(render_answer(answer))
    return 0 if answer.outcome != "budget_exhausted" else 1
