"""`plantagent config show|reference`: the settings in use (secrets masked), and the
reference of every setting generated from the code."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agent.cli.common import print_json, settings_from_args, write_out
from agent.settings import config_path


def register(sub: Any) -> None:
    """Add the config commands."""
    config = sub.add_parser("config", help="show the settings in use")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION")
    show = config_sub.add_parser("show", help="print the settings in use as JSON")
    show.add_argument("--json", action="store_true",
                      help="JSON (the only output of this command; accepted for scripts)")
    show.set_defaults(handler=_show)
    ref = config_sub.add_parser("reference", help="print the reference of every setting "
                                "(Markdown, generated from the code)")
    ref.add_argument("--out", type=Path, default=None, help="write it to this file")
    ref.set_defaults(handler=_reference)


def _show(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    data = settings.model_dump(mode="json")
    data["config_file"] = str(config_path(settings.home))
    print_json(data)
    return 0


def _reference(args: argparse.Namespace) -> int:
    from agent.settings_reference import render_reference

    text = render_reference()
    if args.out is None:
        sys.stdout.write(text)
        return 0
    write_out(args.out, text)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0
