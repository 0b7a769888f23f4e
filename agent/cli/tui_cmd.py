"""`plantagent tui`: the terminal UI over the site, the plant and the local model."""

from __future__ import annotations

import argparse
import asyncio
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.cli.common import add_service_choice, chosen_service, open_runtime, settings_from_args
from agent.errors import OpcUaError, UsageError
from agent.runtime import SiteRuntime
from agent.settings import Settings

if TYPE_CHECKING:  # the UI (textual) loads only when the tui command runs
    from agent.service import AgentService
    from terminal_ui.remote import SiteServiceBackend
    from terminal_ui.startup import Starter, StartProgress


def register(sub: Any) -> None:
    """Add the tui command."""
    tui = sub.add_parser("tui", help="the terminal UI: ask, plant, alarms, approvals, audit")
    tui.add_argument("--endpoint", default=None, help="OPC UA endpoint URL (default: settings)")
    tui.add_argument("--no-triage", action="store_true",
                     help="do not run the triage watcher in the background")
    tui.add_argument("--triage-interval", type=float, default=None,
                     help="seconds between triage passes (default: [triage] interval_s, 30)")
    add_service_choice(tui, service_help="ask through the site service (plantagent serve; "
                       "no passphrase)", local_help="open the site in this process (the "
                       "single-user mode, every tab; needs the site passphrase)")
    tui.add_argument("--role", default=None,
                     help="with the service: one of your own roles (default: the site's)")
    tui.set_defaults(handler=_tui)


#: Seconds between attempts to reach a plant server that is down at start.
RETRY_S = 5.0


def service_starter(
    runtime: SiteRuntime, stack: AsyncExitStack, *, triage: bool = True,
    triage_interval_s: float | None = None, retry_s: float = RETRY_S,
) -> Starter:
    """What the app calls to open the agent service over ``runtime``: the plant's server
    tried until it answers (each failure reported, never fatal), the model loaded, then
    the service, entered on ``stack`` (closed by whoever owns it, after the app)."""
    async def start(progress: StartProgress) -> AgentService:
        from agent.service import open_service

        progress("site", f"{runtime.settings.home} unlocked", done=True)
        url = runtime.endpoint_url
        progress("opcua", f"connecting to {url}")
        attempt = 0
        while True:
            try:
                catalog = await runtime.catalog()
                break
            except OpcUaError as exc:
                attempt += 1
                progress("opcua", f"server down: {exc.message}; trying again every "
                                  f"{retry_s:g} s (attempt {attempt})")
                await asyncio.sleep(retry_s)
        progress("opcua", f"connected to {url}: {len(catalog.equipment)} equipment, "
                          f"{len(catalog.tags)} tags", done=True)
        progress("model", "loading the model (the first start takes longest)")
        model = await runtime.chat_model()
        progress("model", f"{model.info.name} loaded", done=True)
        progress("service", "starting the agent, the plant monitor and triage")
        return await stack.enter_async_context(open_service(
            runtime, triage=triage, triage_interval_s=triage_interval_s))

    return start


def site_service_starter(backend: SiteServiceBackend) -> Starter:
    """What the app calls to connect to the site service: it knows the person by their OS
    account, so nothing is unlocked here (closed by whoever owns ``backend``)."""
    async def start(progress: StartProgress) -> SiteServiceBackend:
        progress("service", f"connecting to the site service at {backend.path}")
        welcome = await backend.connect()
        progress("service", f"connected as {welcome.person} ({welcome.role}); service pid "
                            f"{welcome.service_pid}", done=True)
        return backend

    return start


def _need_terminal() -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("the terminal UI needs a terminal (stdin and stdout are not one)",
                         fix="run it in a terminal (over SSH: ssh -t); from a script use "
                             "`plantagent ask`, `triage run` or `handover`")


async def run_tui_service(path: Path, *, role: str | None = None) -> int:
    """Run the app as a client of the site service at ``path``: questions go through the
    service's socket; no site passphrase is asked for."""
    from terminal_ui.app import PlantAgentApp
    from terminal_ui.remote import SiteServiceBackend

    _need_terminal()
    backend = SiteServiceBackend(path, role=role)
    try:
        await PlantAgentApp(starter=site_service_starter(backend)).run_async()
    finally:
        await backend.close()
    return 0


async def run_tui(
    settings: Settings, *, endpoint: str | None, plant_name: str = "the plant",
    triage: bool = True, triage_interval_s: float | None = None,
) -> int:
    """Unlock the site (asking for its passphrase here, before the screen is taken), then
    run the app at once: it shows the plant's server down and the model loading while
    the service opens, and the tabs once it is up."""
    from terminal_ui.app import PlantAgentApp

    print("opening the site...", file=sys.stderr)
    async with open_runtime(settings, endpoint=endpoint, plant_name=plant_name) as runtime, \
            AsyncExitStack() as stack:
        _ = runtime.audit  # unlocks the site: a passphrase is asked for in the terminal now
        _need_terminal()
        starter = service_starter(runtime, stack, triage=triage,
                                  triage_interval_s=triage_interval_s)
        await PlantAgentApp(starter=starter).run_async()
    return 0


def _tui(args: argparse.Namespace) -> int:
    path = chosen_service(args)
    if path is not None:
        if args.endpoint or args.no_triage or args.triage_interval is not None:
            raise UsageError("--endpoint, --no-triage and --triage-interval are not for the "
                             "site service: it reads its own plant and runs its own triage",
                             fix="leave them out, or open the site here with --no-service")
        return asyncio.run(run_tui_service(path, role=args.role))
    if args.role:
        raise UsageError("--role is for the site service (--service)",
                         fix="leave it out: this process acts as the site's configured "
                             "user and role")
    settings = settings_from_args(args)
    return asyncio.run(run_tui(settings, endpoint=args.endpoint, triage=not args.no_triage,
                               triage_interval_s=args.triage_interval))
