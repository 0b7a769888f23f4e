"""`plantagent sim`: run the demo plant, list its fault modes, inject and clear faults."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from agent.cli.common import nested, print_json, settings_from_args


def register(sub: Any) -> None:
    """Add the sim commands."""
    sim = sub.add_parser(
        "sim",
        help="run the demo plant OPC UA server; inject and clear faults",
        description="Without an action: run the demo plant in the foreground until Ctrl-C.",
    )
    sim.add_argument("--port", type=int, default=None, help="TCP port (0 = pick a free one)")
    sim.add_argument("--speed", type=float, default=None, help="simulated seconds per second")
    sim.add_argument("--seed", type=int, default=None, help="random seed of the process noise")
    sim.add_argument(
        "--history-hours", type=float, default=None, help="hours of history to pre-fill"
    )
    sim.add_argument("--plant", default="demo",
                     help="which plant: demo (default) or a test plant (waterworks, "
                     "kuehlwasser, chillerplant)")
    sim.set_defaults(handler=_run)
    actions = sim.add_subparsers(dest="sim_command", metavar="ACTION")

    faults = actions.add_parser("faults", help="list the fault modes (no server needed)")
    faults.add_argument("--json", action="store_true", help="print JSON")
    faults.set_defaults(handler=_faults)

    fault = actions.add_parser("fault", help="inject or clear a fault in a running demo plant")
    fault_actions = fault.add_subparsers(dest="fault_command", metavar="ACTION", required=True)
    inject = fault_actions.add_parser("inject", help="start a fault mode on equipment")
    inject.add_argument("fault", help="fault mode, see `plantagent sim faults`")
    inject.add_argument("equipment", help="equipment (or tag, for sensor faults), e.g. P-101")
    clear = fault_actions.add_parser("clear", help="clear the faults of equipment (* = all)")
    clear.add_argument("equipment", help="equipment or tag name, or * for all")
    for p in (inject, clear):
        p.add_argument("--endpoint", default=None, help="URL `plantagent sim` printed")
        p.add_argument("--timeout", type=float, default=4.0, help="seconds to wait for it")
    inject.set_defaults(handler=_inject)
    clear.set_defaults(handler=_clear)


def _sim_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return nested(
        "sim", port=args.port, speed=args.speed, seed=args.seed, history_hours=args.history_hours
    )


def _run(args: argparse.Namespace) -> int:
    from contextlib import AbstractAsyncContextManager

    from agent.errors import UsageError
    from plant.kit.server import KitPlantServer
    from plant.server import DemoPlantServer
    from plant.testplants import all_test_plants

    settings = settings_from_args(args, **_sim_overrides(args))
    plants = all_test_plants()
    if args.plant != "demo" and args.plant not in plants:
        raise UsageError(f"no plant {args.plant!r}",
                         fix=f"use demo or one of: {', '.join(plants)}")

    def server() -> AbstractAsyncContextManager[DemoPlantServer | KitPlantServer]:
        if args.plant == "demo":
            return DemoPlantServer(settings.sim)
        return KitPlantServer(plants[args.plant], settings.sim)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        sim = settings.sim
        print(
            f"{args.plant} plant: pre-filling {sim.history_hours:g} h of history "
            f"(one point per {sim.history_period_s:g} s)...",
            file=sys.stderr,
            flush=True,
        )
        async with server() as plant:
            print(f"endpoint: {plant.endpoint}", flush=True)
            print(
                f"speed x{sim.speed:g}, seed {sim.seed}; Ctrl-C stops", file=sys.stderr, flush=True
            )
            await stop.wait()
        print(f"{args.plant} plant stopped", file=sys.stderr)

    asyncio.run(serve())
    return 0


def _faults(args: argparse.Namespace) -> int:
    from plant.server.control import faults_catalogue

    catalogue = faults_catalogue()
    if args.json:
        print_json(catalogue)
        return 0
    for f in catalogue:
        print(f"{f['name']:24s} {', '.join(f['equipment']):28s} onset {f['onset_s']:g} s")
        print(f"    {f['description']}")
    return 0


def _endpoint(args: argparse.Namespace) -> str:
    if args.endpoint:
        return str(args.endpoint)
    from plant.server import ENDPOINT_PATH

    sim = settings_from_args(args, **_sim_overrides(args)).sim
    return f"opc.tcp://{sim.host}:{sim.port}{ENDPOINT_PATH}"


def _inject(args: argparse.Namespace) -> int:
    from plant.remote import inject_remote

    print(asyncio.run(inject_remote(_endpoint(args), args.fault, args.equipment, args.timeout)))
    return 0


def _clear(args: argparse.Namespace) -> int:
    from plant.remote import clear_remote

    print(asyncio.run(clear_remote(_endpoint(args), args.equipment, args.timeout)))
    return 0
