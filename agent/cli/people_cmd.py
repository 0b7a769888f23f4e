"""`plantagent people add|list|show|disable|rotate-key`: the register of enrolled people.

The first administrator is enrolled with the site passphrase alone, once, while the
register is empty: ``plantagent people add NAME --first-admin --role engineer``. From then
on only an enrolled administrator, acting from their own OS account with their own key,
changes the register. Personal keys are sealed under the person's own passphrase
(PLANTAGENT_NEW_PERSON_PASSPHRASE or the terminal) or a new key file (``--key-file``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agent.cli.common import open_runtime, print_json, settings_from_args
from agent.people.identity import os_account
from agent.people.keys import KeySecret, write_key_file
from agent.people.models import ADMIN_ROLE, Person
from agent.vault.passphrase import read_passphrase

NEW_PERSON_PASSPHRASE_ENV = "PLANTAGENT_NEW_PERSON_PASSPHRASE"


def register(sub: Any) -> None:
    """Add the people commands."""
    people = sub.add_parser("people", help="enrolled people: names, OS accounts, roles, keys")
    p_sub = people.add_subparsers(dest="people_command", metavar="ACTION")
    add = p_sub.add_parser("add", help="enrol a person (administrators; --first-admin once)")
    add.add_argument("name")
    add.add_argument("--account", default=None,
                     help="the person's OS account (default: the name in lower case)")
    add.add_argument("--role", dest="roles", action="append", default=[],
                     help=f"a policy role, or {ADMIN_ROLE} (repeat for several)")
    add.add_argument("--first-admin", action="store_true",
                     help=f"enrol the first {ADMIN_ROLE} with the site passphrase alone")
    _new_secret(add)
    _acting(add)
    add.set_defaults(handler=_add)
    lst = p_sub.add_parser("list", help="list enrolled people")
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(handler=_list)
    show = p_sub.add_parser("show", help="show one person and their public keys")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=_show)
    disable = p_sub.add_parser("disable", help="disable a person (administrators)")
    disable.add_argument("name")
    _acting(disable)
    disable.set_defaults(handler=_disable)
    rotate = p_sub.add_parser("rotate-key", help="a new personal key (yourself or an admin)")
    rotate.add_argument("name")
    _new_secret(rotate)
    _acting(rotate)
    rotate.add_argument("--site-owner", action="store_true",
                        help="replace the sole administrator's lost key with the site "
                        "passphrase alone")
    rotate.set_defaults(handler=_rotate)


def _new_secret(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--new-key-file", default=None,
                        help="seal the person's key under a NEW key file written here "
                        "(mode 600) instead of a personal passphrase")


def _acting(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as", dest="user", default=None,
                        help="your name (must be the person of your OS account)")
    parser.add_argument("--key-file", default=None, help="your own personal key file")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _secret(args: argparse.Namespace, name: str) -> KeySecret:
    if args.new_key_file:
        path = Path(args.new_key_file)
        write_key_file(path)
        return KeySecret(key_file=path)
    return KeySecret(passphrase=read_passphrase(
        prompt=f"New personal passphrase for {name}: ", confirm=True,
        env=NEW_PERSON_PASSPHRASE_ENV))


def _add(args: argparse.Namespace) -> int:
    account = args.account or args.name.strip().lower()
    with open_runtime(settings_from_args(args)) as runtime:
        by = None if args.first_admin else runtime.acting(
            name=args.user, role=ADMIN_ROLE, key_file=args.key_file).signer
        roles = list(args.roles)
        if args.first_admin and ADMIN_ROLE not in roles:
            roles.append(ADMIN_ROLE)
        person = runtime.people.enroll(by=by, name=args.name, os_account=account,
                                       roles=roles, secret=_secret(args, args.name))
    _print(args, person, f"enrolled {person.name} (account {person.os_account}, roles "
                         f"{', '.join(person.roles)}, key {person.current_key.fingerprint[:16]})")
    return 0


def _list(args: argparse.Namespace) -> int:
    with open_runtime(settings_from_args(args)) as runtime:
        found = runtime.people.people()
    if args.json:
        print_json([p.public_view() for p in found])
    elif not found:
        sys.stdout.write("nobody is enrolled: plantagent people add NAME --first-admin "
                         "--role ROLE\n")
    else:
        for p in found:
            state = "disabled" if p.disabled else "enabled"
            sys.stdout.write(f"{p.key:<20} {p.name:<24} {p.os_account:<16} {state:<8} "
                             f"{','.join(p.roles)}  key {p.current_key.fingerprint[:16]}\n")
    return 0


def _show(args: argparse.Namespace) -> int:
    with open_runtime(settings_from_args(args)) as runtime:
        person = runtime.people.get(args.name)
    if args.json:
        print_json(person.public_view())
    else:
        for key, value in person.public_view().items():
            sys.stdout.write(f"{key}: {value}\n")
    return 0


def _disable(args: argparse.Namespace) -> int:
    with open_runtime(settings_from_args(args)) as runtime:
        by = runtime.acting(name=args.user, role=ADMIN_ROLE, key_file=args.key_file).signer
        person = runtime.people.disable(by=by, name=args.name)
    _print(args, person, f"disabled {person.name}: their approvals no longer count")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    with open_runtime(settings_from_args(args)) as runtime:
        by = None
        if not args.site_owner:
            me = runtime.people.get(args.name)
            own = me.os_account == os_account()
            by = runtime.acting(name=args.user, role=me.roles[0] if own else ADMIN_ROLE,
                                key_file=args.key_file).signer
        person = runtime.people.rotate_key(by=by, name=args.name,
                                           secret=_secret(args, args.name))
    _print(args, person, f"new key for {person.name}: {person.current_key.fingerprint[:16]} "
                         "(older keys retired, still verifiable)")
    return 0


def _print(args: argparse.Namespace, person: Person, line: str) -> None:
    if getattr(args, "json", False):
        print_json(person.public_view())
    else:
        sys.stdout.write(line + "\n")


__all__ = ["register"]
