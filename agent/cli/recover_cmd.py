"""`plantagent recover status|accept`: the site's databases against their recorded heads,
and a person accepting one that is refused, on record.

A database that is missing, older than its last recorded head or altered at rest is
refused by every command (agent/vault/heads.py). Nothing recovers on its own:

- ``recover status`` shows each database: generation, last recorded head, and what is
  wrong (nothing is changed);
- ``recover accept NAME --reason TEXT`` opens it as found (a restored backup, an older
  copy, a new empty one when it is missing) and records the acceptance in the audit log
  with the reason, the person, what was wrong and the head it replaces. For the audit
  database itself see agent/audit/recover.py.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agent.cli.common import open_runtime, print_json, settings_from_args
from agent.errors import UsageError
from agent.vault.heads import RefusedDatabase
from agent.vault.inspect import DatabaseState
from agent.vault.layout import AUDIT_DATABASE, check_db_name


def register(sub: Any) -> None:
    """Add the recover commands."""
    recover = sub.add_parser(
        "recover", help="databases refused as missing, older or altered: status, accept")
    actions = recover.add_subparsers(dest="recover_command", metavar="ACTION")
    status = actions.add_parser("status", help="every database against its recorded head")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=_status)
    accept = actions.add_parser(
        "accept", help="accept a refused database as it is found (recorded in the audit log)")
    accept.add_argument("name", help="the database, e.g. twin, approvals, reports, audit")
    accept.add_argument("--reason", required=True,
                        help="why its state is accepted (e.g. 'restored from the 03:00 backup')")
    accept.add_argument("--json", action="store_true", help="print JSON")
    accept.set_defaults(handler=_accept)


def _as_dict(state: DatabaseState) -> dict[str, Any]:
    head = state.head
    return {
        "database": state.name, "path": str(state.path), "exists": state.exists,
        "generation": state.generation, "in_use": state.in_use, "problem": state.problem,
        "recorded": None if head is None else {
            "generation": head.generation, "digest": head.digest, "event": head.event,
            "where": head.where},
    }


def _status(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    states: list[dict[str, Any]] = []
    try:
        with open_runtime(settings) as runtime:
            site = runtime.site
            states = [_as_dict(site.inspect(name)) for name in site.known_databases()]
    except RefusedDatabase as exc:
        if exc.name != AUDIT_DATABASE:
            raise
        states = [{"database": AUDIT_DATABASE, "problem": exc.problem,
                   "note": "the audit log holds the other databases' heads: accept it "
                   "first (`plantagent recover accept audit --reason TEXT`)"}]
    refused = [s for s in states if s.get("problem")]
    if args.json:
        print_json(states)
        return 1 if refused else 0
    for state in states:
        problem = state.get("problem")
        if problem:
            print(f"{state['database']:10} REFUSED  {problem}")
            if state.get("note"):
                print(f"{'':10}          {state['note']}")
            continue
        recorded = state.get("recorded")
        where = f"recorded {recorded['event']} ({recorded['where']})" if recorded else (
            "no head recorded yet")
        if not state.get("exists"):
            print(f"{state['database']:10} absent   not created yet")
        else:
            use = ", open now" if state.get("in_use") else ""
            print(f"{state['database']:10} ok       generation {state['generation']}, "
                  f"{where}{use}")
    if refused:
        print(f"{len(refused)} refused: `plantagent recover accept NAME --reason TEXT` "
              "accepts one as it is found, on record", file=sys.stderr)
    return 1 if refused else 0


def _accept(args: argparse.Namespace) -> int:
    name = check_db_name(args.name.strip())
    reason = args.reason.strip()
    if not reason:
        raise UsageError("--reason is empty", fix="say why this state is accepted")
    settings = settings_from_args(args)
    recover = {"reason": reason, "by": settings.agent.user}
    if name == AUDIT_DATABASE:
        with open_runtime(settings, recover_audit=recover) as runtime:
            state = runtime.site.inspect(AUDIT_DATABASE)
            log = runtime.audit
            record = log.last(1)[0] if log.size() else None
        result = {"database": name, "generation": state.generation,
                  "recorded_as": None if record is None else record.seq,
                  "log_id": log.log_id,
                  "problem": None if record is None else record.payload.get("problem"),
                  "set_aside": None if record is None else record.payload.get("set_aside")}
    else:
        with open_runtime(settings) as runtime:
            site = runtime.site
            before = site.inspect(name)
            site.database(name, recover=recover)
            after = site.inspect(name)
        result = {"database": name, "generation": after.generation,
                  "problem": before.problem or "none", "recorded_as": "audit log"}
    if args.json:
        print_json(result)
        return 0
    print(f"accepted the {name} database as found (generation {result['generation']}); "
          f"what was wrong: {result['problem']}")
    if result.get("set_aside"):
        print(f"checkpoints it no longer extends were kept aside: {result['set_aside']}")
    print("recorded in the audit log with your reason; `plantagent audit verify` checks it")
    return 0
