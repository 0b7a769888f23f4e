"""`plantagent config show`: the settings in use, secrets masked."""

from __future__ import annotations

import argparse
from typing import Any

from agent.cli.common import print_json, settings_from_args
from agent.settings import config_path


def register(sub: Any) -> None:
    """Add the config commands."""
    config = sub.add_parser("config", help="show the settings in use")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION")
    show = config_sub.add_parser("show", help="print the settings in use as JSON")
    show.set_defaults(handler=_show)


def _show(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    data = settings.model_dump(mode="json")
    data["config_file"] = str(config_path(settings.home))
    print_json(data)
    return 0
