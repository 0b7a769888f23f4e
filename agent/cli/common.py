"""Helpers shared by the command modules: settings from flags, the site runtime of a
command, JSON output."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agent.errors import UsageError
from agent.people.identity import secret_from
from agent.runtime import SiteRuntime
from agent.serve.client_connection import Signer
from agent.serve.local_signing import sign_prepared
from agent.serve.site_socket import socket_path
from agent.settings import Settings, default_home, load_settings
from agent.vault.manifest import load_manifest
from agent.vault.passphrase import read_passphrase


def settings_from_args(args: argparse.Namespace, **overrides: Any) -> Settings:
    """Build the settings from the global flags plus command-specific overrides."""
    if getattr(args, "home", None):
        overrides["home"] = Path(args.home)
    config = Path(args.config) if getattr(args, "config", None) else None
    return load_settings(config, **overrides)


def service_socket(args: argparse.Namespace) -> Path:
    """The site service's socket: ``--socket``, else SITE/service.sock of ``--home``,
    PLANTAGENT_HOME or the default site, found without reading the site's settings file
    (a person's account may not read it)."""
    if getattr(args, "socket", None):
        return Path(args.socket)
    home = getattr(args, "home", None) or os.environ.get("PLANTAGENT_HOME") or default_home()
    return socket_path(Path(home))


def add_service_choice(parser: argparse.ArgumentParser, *, service_help: str,
                       local_help: str, nested: bool = False) -> None:
    """``--service`` / ``--no-service`` and ``--socket``: whether a command goes through the
    site service (the default when its socket exists) or opens the site itself.
    ``nested``: ``parser`` is a subcommand of a command that has them too; given before
    the subcommand they must not be reset by the subcommand's defaults."""
    unset: dict[str, Any] = {"default": argparse.SUPPRESS} if nested else {}
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--service", action="store_true",
                       help=f"{service_help}; the default when its socket exists", **unset)
    where.add_argument("--no-service", action="store_true",
                       help=f"{local_help}, even when a service runs", **unset)
    parser.add_argument("--socket", type=Path, default=None if not nested else argparse.SUPPRESS,
                        help="the service's socket (default: SITE/service.sock)")


def chosen_service(args: argparse.Namespace) -> Path | None:
    """The socket to use when the command goes through the site service (the choice of
    ``add_service_choice``), else None: the command opens the site itself."""
    path = service_socket(args)
    return path if args.service or (not args.no_service and path.exists()) else None


def service_for_plant(args: argparse.Namespace) -> Path | None:
    """As ``chosen_service``, for a command that reads the plant: a ``--endpoint`` is
    refused through the service, which reads the plant it connects to itself (its
    settings' ``opcua.endpoint``), never a server a caller names."""
    path = chosen_service(args)
    if path is not None and getattr(args, "endpoint", None):
        raise UsageError(
            f"--endpoint {args.endpoint} is not used through the site service: it reads "
            "its own plant connection (opcua.endpoint of its settings)",
            fix="leave out --endpoint, or read that server in this process with "
            "--no-service (it needs the site passphrase)")
    return path


def person_signer(key_file: str | None) -> Signer:
    """Signs what the site service prepares with the caller's own key, unsealed with
    their own secret (``key_file``, else as agent.people.identity.secret_from takes it:
    never the site passphrase)."""
    return lambda request: sign_prepared(
        request, lambda sealed: secret_from(key_file, sealed=sealed))


def site_passphrase(home: Path) -> str | None:
    """None for a demo key-file site; else PLANTAGENT_PASSPHRASE or the terminal (asked
    only when the command unlocks the site)."""
    if load_manifest(home).wrapping.kind == "keyfile":
        return None
    return read_passphrase()


def note(text: str) -> None:
    """What a command decided on its own, on stderr (stdout stays for results)."""
    sys.stderr.write(f"  ... {text}\n")
    sys.stderr.flush()


def open_runtime(settings: Settings, **parts: Any) -> SiteRuntime:
    """The site runtime of one command: the passphrase asked for when the site is
    unlocked, notes on stderr. ``parts`` as SiteRuntime takes them (endpoint, model)."""
    parts.setdefault("passphrase", site_passphrase)
    parts.setdefault("notify", note)
    return SiteRuntime(settings, **parts)


def guard_egress(settings: Settings) -> None:
    """Install the site's egress guard for a command that unlocks nothing (the model
    files' commands): whatever it loads in this process stays on site. A child process
    (pip, assembling a model from its wheels) is its own and not covered."""
    with open_runtime(settings) as runtime:
        _ = runtime.guard


def nested(section: str, **values: Any) -> dict[str, Any]:
    """An override for one settings section, skipping values left unset (None)."""
    kept = {k: v for k, v in values.items() if v is not None}
    return {section: kept} if kept else {}


def print_json(value: Any) -> None:
    """Print a value (pydantic models included) as indented JSON on stdout."""
    if isinstance(value, BaseModel):
        text = value.model_dump_json(indent=2)
    else:
        text = json.dumps(_plain(value), indent=2, default=str)
    sys.stdout.write(text + "\n")


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def count(low: int = 1, high: int = 1_000_000) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``; anything else is a
    usage error naming the value and the range (never a traceback deep in SQLite)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{text} is out of range: give a number from {low:,} to {high:,}")
        return value

    parse.__name__ = "count"
    return parse


def write_out(path: Path, text: str) -> None:
    """Write a command's ``--out`` file; a missing directory is a usage error naming the
    fix, and nothing is written."""
    if not path.parent.is_dir():
        raise UsageError(f"the directory {path.parent} does not exist",
                         fix="create it first, or give another --out path")
    path.write_text(text, encoding="utf-8")
