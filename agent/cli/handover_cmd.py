"""`plantagent handover [--since 8h]`: a grounded summary of the shift, every line cited."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from agent.cli.common import print_json, settings_from_args
from agent.compose import open_agent
from agent.errors import ModelError, ModelOutputError
from agent.handover import HandoverReport, build_handover, parse_duration
from agent.handover.unloaded import UnloadedModel
from agent.llm.base import ChatModel
from agent.settings import Settings
from agent.triage.store import REPORTS_DATABASE, ReportStore
from agent.vault.manifest import load_manifest
from agent.vault.passphrase import read_passphrase


def register(sub: Any) -> None:
    """Add the handover command."""
    handover = sub.add_parser(
        "handover",
        help="summary of the shift: alarms, triage, changes, open items, trends (cited)",
    )
    handover.add_argument("--since", default="8h",
                          help="how far back the shift reaches: 30m, 8h, 1d (default 8h)")
    handover.add_argument("--json", action="store_true", help="print the full record as JSON")
    handover.add_argument("--endpoint", help="OPC UA endpoint URL (default: settings)")
    handover.add_argument("--no-model", action="store_true",
                          help="write it with the deterministic template, not the model")
    handover.set_defaults(handler=_handover)


def _progress(quiet: bool) -> Callable[[str], None]:
    def show(text: str) -> None:
        if not quiet:
            sys.stderr.write(f"  ... {text}\n")
            sys.stderr.flush()

    return show


async def run_handover(
    settings: Settings, *, since: timedelta, endpoint: str | None, use_model: bool,
    passphrase: str | None, quiet: bool = False,
) -> HandoverReport:
    """Open the agent (without loading a model for ``use_model=False``) and build the
    handover; a site whose model cannot load gets the template's handover, said so."""
    progress = _progress(quiet)
    model: ChatModel | None = None if use_model else UnloadedModel("--no-model")
    try:
        return await _build(settings, since, endpoint, model, passphrase, progress)
    except ModelError as exc:
        # Only loading the model raises here: build_handover handles a model that fails.
        if model is not None or isinstance(exc, ModelOutputError):
            raise
        sys.stderr.write(f"  ... no local model ({exc.message}); using the template\n")
        return await _build(settings, since, endpoint, UnloadedModel(exc.message), passphrase,
                            progress)


async def _build(settings: Settings, since: timedelta, endpoint: str | None,
                 model: ChatModel | None, passphrase: str | None,
                 progress: Callable[[str], None]) -> HandoverReport:
    async with open_agent(settings, endpoint=endpoint, model=model,
                          passphrase=passphrase) as session:
        reports = ReportStore(session.site.database(REPORTS_DATABASE))
        return await build_handover(session, reports, since=since, use_model=model is None,
                                    on_progress=progress)


def _passphrase(settings: Settings) -> str | None:
    """None for a demo key-file site; else from PLANTAGENT_PASSPHRASE or the terminal."""
    if load_manifest(settings.home).wrapping.kind == "keyfile":
        return None
    return read_passphrase()


def _handover(args: argparse.Namespace) -> int:
    since = parse_duration(args.since)  # bad input fails before anything is opened
    settings = settings_from_args(args)
    report = asyncio.run(run_handover(
        settings, since=since, endpoint=args.endpoint, use_model=not args.no_model,
        passphrase=_passphrase(settings), quiet=args.json,
    ))
    if args.json:
        print_json(report)
    else:
        print(report.markdown(), end="")
    return 0
