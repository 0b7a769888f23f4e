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
import errno
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from agent.cli.plugins import CommandGroups, register_plugins
from agent.errors import PlantAgentError, UsageError
from agent.vault.egress import install_egress_guard

#: Command groups, in the order `plantagent --help` lists them.
COMMAND_MODULES = [
    "agent.cli.ask_cmd",
    "agent.cli.serve_cmd",
    "agent.cli.config_cmd",
    "agent.cli.init_cmd",
    "agent.cli.keys_cmd",
    "agent.cli.audit_cmd",
    "agent.cli.recover_cmd",
    "agent.cli.opcua_cmd",
    "agent.cli.models_cmd",
    "agent.cli.policy_cmd",
    "agent.cli.approvals_cmd",
    "agent.cli.people_cmd",
    "agent.cli.docs_cmd",
    "agent.cli.incidents_cmd",
    "agent.cli.twin_cmd",
    "agent.cli.triage_cmd",
    "agent.cli.alarms_cmd",
    "agent.cli.handover_cmd",
    "agent.cli.tui_cmd",
    "agent.cli.bundle_cmd",
    "agent.cli.deploy_cmd",
    "agent.cli.completion_cmd",
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
    parser.add_argument("--version", action="version", version=f"plantagent {_version()}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more detail: -v shows library warnings, -vv debug logs "
                        "and the traceback of an internal error")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="only errors on stderr (no progress, no notes)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    groups = CommandGroups(sub)
    for name in COMMAND_MODULES:
        added = importlib.import_module(name).register(sub)
        if added is not None:
            groups.groups.update(added)
    register_plugins(groups)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script.

    Exit codes: 0 done, 1 failed (the plant, a file, the model or the disk), 2 usage error
    or refusal (the message names the fix), 130 interrupted. A closed output pipe
    (``| head``) ends the command quietly.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse printed --help, --version or a usage error
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    configure_logging(args.verbose, args.quiet)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    # Every command runs under the egress guard: loopback only, no child process, no
    # foreign native library, until the site it opens widens it to its own networks.
    install_egress_guard([])
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except PlantAgentError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.fix:
            print(f"  fix: {exc.fix}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, UsageError) else EXIT_FAILED
    except OSError as exc:
        # A full disk, a missing or unwritable directory: the system's words and the file.
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        print(f"  fix: {_os_fix(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # the last line: a bug, reported without a wall of traceback
        if args.verbose >= 2:
            raise
        print(f"internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("  fix: this is a bug in plantagent; run the command again with -vv to see "
              "where it happened and report it", file=sys.stderr)
        return EXIT_FAILED


EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

#: Libraries whose warnings are noise for a person at the terminal (asyncua's
#: "Requested session timeout ..." on every connection); -v shows them.
_NOISY = ("asyncua", "llama_cpp", "textual", "pypdf", "matplotlib")


def configure_logging(verbose: int, quiet: bool) -> None:
    """Our warnings on stderr; library chatter only with -v; debug with -vv."""
    level = logging.ERROR if quiet else (logging.DEBUG if verbose >= 2 else logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)
    for name in _NOISY:
        # Their errors (with tracebacks: asyncua's "Publish iteration crashed" when a
        # server goes away) reach the person as our own message, with the fix, instead.
        logging.getLogger(name).setLevel(level if verbose else logging.CRITICAL)


def _version() -> str:
    try:
        return version("plantagent")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def _silence_stdout() -> None:
    # The reader went away: point stdout at /dev/null so the interpreter's final flush
    # does not raise a second BrokenPipeError.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _os_fix(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "free space on that disk and run the command again; nothing was acknowledged"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "run as the account that owns the site, or fix the file's permissions"
    if exc.errno == errno.ENOENT:
        return "check the path; create the directory first if it should exist"
    return "check the file or device named above and run the command again"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
