"""`plantagent deploy systemd-unit`: the hardened unit of the site service, its network
allowlist taken from the site's policy and settings (agent/deploy/systemd.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agent.cli.common import open_runtime, settings_from_args, write_out
from agent.deploy.systemd import (
    CREDENTIAL_FILE,
    PEOPLE_GROUP,
    SERVICE_USER,
    UnitOptions,
    account_steps,
    render_unit,
)


def register(sub: Any) -> None:
    """Add the deploy commands."""
    deploy = sub.add_parser("deploy", help="install plantagent as a hardened service")
    actions = deploy.add_subparsers(dest="deploy_command", metavar="ACTION")
    unit = actions.add_parser(
        "systemd-unit", help="the systemd unit of `plantagent serve` for this site, with the "
        "kernel enforcing its network allowlist")
    unit.add_argument("--out", type=Path, default=None, help="write it to this file "
                      "(default: stdout)")
    unit.add_argument("--user", default=SERVICE_USER, help="the service account "
                      f"(default {SERVICE_USER})")
    unit.add_argument("--exec", dest="executable", type=Path, default=None,
                      help="the plantagent executable (default: this installation's)")
    unit.add_argument("--credential", type=Path, default=CREDENTIAL_FILE,
                      help=f"the file holding the site passphrase (default {CREDENTIAL_FILE})")
    unit.add_argument("--encrypted", action="store_true",
                      help="the credential is sealed with systemd-creds encrypt "
                      "(LoadCredentialEncrypted=)")
    unit.add_argument("--people-group", default=PEOPLE_GROUP,
                      help=f"the group of the accounts that may ask the service (default "
                      f"{PEOPLE_GROUP})")
    unit.set_defaults(handler=_unit)


def _unit(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    # The allowlist the guard holds for this site: the policy's networks, then the
    # settings' (a broken policy stops here with its own message).
    with open_runtime(settings) as runtime:
        allowlist = runtime.guard.allowlist
    options = UnitOptions(home=settings.home, allowlist=allowlist, user=args.user,
                          executable=args.executable, credential=args.credential,
                          encrypted=args.encrypted, people_group=args.people_group)
    text = render_unit(options)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    write_out(args.out, text)
    print(f"wrote {args.out}; to install it (as root):", file=sys.stderr)
    for step in account_steps(options):
        print(f"  {step}", file=sys.stderr)
    return 0
