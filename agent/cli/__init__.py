"""The `plantagent` command line: one argparse tree, one module per command group.

Each module in COMMAND_MODULES exposes ``register(subparsers)``, adding its commands with
``set_defaults(handler=...)`` and returning the command groups others may extend (or None).
Installed packages add more through entry points (agent/cli/plugins.py): the demo plant
its `demo` and `sim` commands, the harness `eval`, `bench` and `models qualify`. A
handler takes the parsed arguments and returns the exit code. Errors of ours are printed
with their fix; anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from agent.cli.plugins import CommandGroups, register_plugins
from agent.errors import PlantAgentError, UsageError

#: Command groups, in the order `plantagent --help` lists them.
COMMAND_MODULES = [
    "agent.cli.ask_cmd",
    "agent.cli.config_cmd",
    "agent.cli.init_cmd",
    "agent.cli.keys_cmd",
    "agent.cli.audit_cmd",
    "agent.cli.opcua_cmd",
    "agent.cli.models_cmd",
    "agent.cli.policy_cmd",
    "agent.cli.approvals_cmd",
    "agent.cli.docs_cmd",
    "agent.cli.incidents_cmd",
    "agent.cli.twin_cmd",
    "agent.cli.triage_cmd",
    "agent.cli.alarms_cmd",
    "agent.cli.handover_cmd",
    "agent.cli.tui_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also used by tests)."""
    parser = argparse.ArgumentParser(
        prog="plantagent",
        description="On-prem industrial AI agent: OPC UA, digital twin, local LLM.",
    )
    parser.add_argument(
        "--config", type=str, default=None, help="TOML settings file (default: site file)"
    )
    parser.add_argument("--home", type=str, default=None, help="site directory")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    groups = CommandGroups(sub)
    for name in COMMAND_MODULES:
        added = importlib.import_module(name).register(sub)
        if added is not None:
            groups.groups.update(added)
    register_plugins(groups)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except PlantAgentError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.fix:
            print(f"  fix: {exc.fix}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
