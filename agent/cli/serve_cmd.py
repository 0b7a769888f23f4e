"""`plantagent serve` (the site service) and `plantagent status` (what it is doing)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import threading
from pathlib import Path
from typing import Any

from agent.cli.common import (
    note,
    open_runtime,
    print_json,
    service_socket,
    settings_from_args,
)
from agent.serve.client import ServiceClient
from agent.serve.daemon import credential_passphrase, run_site_service
from agent.serve.server import SiteServer
from agent.serve.site_socket import socket_path
from agent.serve.status import SiteServiceStatus, render_status


def register(sub: Any) -> None:
    """Add the serve and status commands."""
    serve = sub.add_parser(
        "serve", help="run the site service: one process serving every enrolled person "
        "over the site's Unix socket (run it from the systemd unit: plantagent deploy "
        "systemd-unit)")
    serve.add_argument("--passphrase-file", type=Path, default=None,
                       help="the site passphrase, in a file only the service's account "
                       "reads (default: the systemd credential plantagent-passphrase)")
    serve.add_argument("--group", default=None, help="the group whose members may connect "
                       "(the socket is mode 0660; default: the service account's group)")
    serve.add_argument("--socket", type=Path, default=None,
                       help="where to listen (default: SITE/service.sock)")
    serve.add_argument("--endpoint", help="OPC UA endpoint URL (default: settings)")
    serve.add_argument("--no-triage", action="store_true",
                       help="do not run the triage watcher")
    serve.add_argument("--triage-model", action="store_true",
                       help="let triage write its reports with the model (it then goes "
                       "ahead of questions in the queue); default: the template writes")
    serve.set_defaults(handler=_serve)

    status = sub.add_parser("status", help="the site service: process, queue, OPC UA, "
                            "triage watcher and guards")
    status.add_argument("--socket", type=Path, default=None,
                        help="the service's socket (default: SITE/service.sock)")
    status.add_argument("--json", action="store_true", help="print it as JSON")
    status.set_defaults(handler=_status)


def _serve(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():
            # systemctl stop (SIGTERM) and Ctrl-C end the service cleanly: clients told,
            # questions in flight cancelled and audited, socket removed, lock released.
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)

        def ready(server: SiteServer) -> None:
            note(f"serving the site {settings.home} on {args.socket or socket_path(settings.home)}"
                 f" (pid of the service in `plantagent status`)")

        async with open_runtime(settings, endpoint=args.endpoint,
                                passphrase=credential_passphrase(args.passphrase_file)
                                ) as runtime:
            await run_site_service(runtime, stop, socket_file=args.socket, group=args.group,
                                   triage=not args.no_triage, triage_model=args.triage_model,
                                   ready=ready)
        note("the service stopped")

    asyncio.run(main())
    return 0


async def fetch_status(path: Path) -> SiteServiceStatus:
    """The status of the service listening on ``path`` (ServiceError if none)."""
    async with ServiceClient(path) as client:
        return await client.status()


def _status(args: argparse.Namespace) -> int:
    status = asyncio.run(fetch_status(service_socket(args)))
    if args.json:
        print_json(status)
    else:
        print(render_status(status))
    return 0
