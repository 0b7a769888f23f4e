"""`plantagent init`: create a site (data key, wrapping, signing keys)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agent.cli.common import print_json, settings_from_args
from agent.vault.keys import init_site
from agent.vault.passphrase import read_passphrase


def register(sub: Any) -> None:
    """Add the init command."""
    init = sub.add_parser("init", help="create a new site (keys and encrypted stores)")
    # dest differs from the global --home so the subparser's default cannot mask it.
    init.add_argument("--home", dest="init_home", default=None, help="site directory")
    init.add_argument(
        "--demo-keyfile",
        action="store_true",
        help="DEMO ONLY: wrap the data key with a random key file stored in the site "
        "instead of a passphrase (no protection if the directory is copied)",
    )
    init.add_argument("--json", action="store_true", help="print the result as JSON")
    init.set_defaults(handler=_init)


def site_home(args: argparse.Namespace) -> Path:
    """The site directory: the command's --home, the global --home, or the settings."""
    own = getattr(args, "init_home", None)
    return Path(own) if own else settings_from_args(args).home


def _init(args: argparse.Namespace) -> int:
    home = site_home(args)
    passphrase = None
    if not args.demo_keyfile:
        passphrase = read_passphrase(prompt="New site passphrase: ", confirm=True)
    info = init_site(home, passphrase=passphrase, demo_keyfile=args.demo_keyfile)
    result = {
        "home": str(info.home),
        "site_id": info.site_id,
        "demo_keyfile": info.demo,
        "signing_fingerprint": info.fingerprint,
    }
    if args.json:
        print_json(result)
        return 0
    print(f"created site {info.site_id} in {info.home}")
    print(f"signing key fingerprint: {info.fingerprint}")
    if info.demo:
        print(
            "warning: demo key file mode: the key file lies next to the data; "
            "use a passphrase for real plant data",
            file=sys.stderr,
        )
    print("next: `plantagent keys export-public --out site-keys.json` for your auditors")
    return 0
