"""`plantagent tui`: the terminal UI over the site, the plant and the local model."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from agent.cli.common import open_runtime, settings_from_args
from agent.settings import Settings


def register(sub: Any) -> None:
    """Add the tui command."""
    tui = sub.add_parser("tui", help="the terminal UI: ask, plant, alarms, approvals, audit")
    tui.add_argument("--endpoint", default=None, help="OPC UA endpoint URL (default: settings)")
    tui.add_argument("--no-triage", action="store_true",
                     help="do not run the triage watcher in the background")
    tui.add_argument("--triage-interval", type=float, default=None,
                     help="seconds between triage passes (default: [triage] interval_s, 30)")
    tui.set_defaults(handler=_tui)


async def run_tui(
    settings: Settings, *, endpoint: str | None, plant_name: str = "the plant",
    triage: bool = True, triage_interval_s: float | None = None,
) -> int:
    """Open the agent service and run the app until the user quits."""
    from agent.service import open_service
    from terminal_ui.app import PlantAgentApp

    print("opening the site, connecting to the plant and loading the model...",
          file=sys.stderr)
    async with open_runtime(settings, endpoint=endpoint, plant_name=plant_name) as runtime, \
            open_service(runtime, triage=triage,
                         triage_interval_s=triage_interval_s) as service:
        await PlantAgentApp(service).run_async()
    return 0


def _tui(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    return asyncio.run(run_tui(settings, endpoint=args.endpoint, triage=not args.no_triage,
                               triage_interval_s=args.triage_interval))
