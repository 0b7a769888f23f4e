"""`plantagent policy show|check`: the effective policy, and whether the files are valid."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agent.cli.common import open_runtime, print_json, settings_from_args
from agent.errors import ConfigError, UsageError
from agent.people.models import ADMIN_ROLE
from agent.people.overlays import sign_overlay
from agent.policy.loader import load_policy, site_policy_dir
from agent.policy.overlay import Difference, differences
from agent.vault import crypto


def register(sub: Any) -> None:
    """Add the policy commands."""
    policy = sub.add_parser("policy", help="show or check the policy (roles, tools, writes)")
    policy_sub = policy.add_subparsers(dest="policy_command", metavar="ACTION")
    for name, text in (
        ("show", "print the effective policy (shipped defaults + site overrides)"),
        ("check", "validate the policy files and print the effective policy"),
    ):
        cmd = policy_sub.add_parser(name, help=text)
        cmd.add_argument("--json", action="store_true", help="print JSON")
        cmd.set_defaults(handler=_show, check=name == "check")
    sign = policy_sub.add_parser(
        "sign", help="sign a site policy file as an enrolled administrator (needed when "
        "the site's policy weakens the shipped one)")
    sign.add_argument("file", help="the site policy file, e.g. policies/site.toml")
    sign.add_argument("--as", dest="user", default=None, help="your name")
    sign.add_argument("--key-file", default=None, help="your personal key file")
    sign.set_defaults(handler=_sign)


def _sign(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    path = Path(args.file).resolve()
    if path.parent != site_policy_dir(settings.home).resolve() or not path.is_file():
        raise UsageError(f"{args.file} is not a policy file of this site",
                         fix=f"sign a file in {site_policy_dir(settings.home)}")
    with open_runtime(settings) as runtime:
        signer = runtime.acting(name=args.user, role=ADMIN_ROLE, key_file=args.key_file).signer
        out = sign_overlay(signer, path, now=runtime.clock())
        runtime.audit.append("config_change", signer.person.name, {
            "event": "policy_signed", "file": path.name,
            "sha256": crypto.sha256_hex(path.read_bytes())}, role=ADMIN_ROLE)
    sys.stdout.write(f"signed {path.name} as {signer.person.name}: {out}\n")
    return 0


def _show(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    with open_runtime(settings) as runtime:
        loaded = runtime.loaded_policy  # ConfigError (exit 2) names file, key and fix
        # The network allowlist is checked by installing it, as every site command does.
        _ = runtime.guard
        changed = differences(load_policy(None).policy, loaded.policy)
        try:
            _ = runtime.policy  # a weakening site policy must be signed by an administrator
        except ConfigError:
            if not args.json:
                _differences(changed)
            raise
    policy = loaded.policy
    if settings.agent.role not in policy.roles:
        raise ConfigError(
            f"the configured agent.role {settings.agent.role!r} is not a role of the policy",
            fix="set agent.role (PLANTAGENT_AGENT__ROLE) to one of: "
            + ", ".join(sorted(policy.roles)),
        )
    data = {
        "valid": True,
        "files": loaded.files,
        "site_policy_dir": str(site_policy_dir(settings.home)),
        "policy": policy.model_dump(mode="json"),
        "budgets_effective": {r: policy.budget(r).model_dump() for r in sorted(policy.roles)},
        "differences": [{"path": d.path, "shipped": d.shipped, "site": d.site,
                         "weakens": d.weakens} for d in changed],
    }
    if args.json:
        print_json(data)
        return 0
    out = sys.stdout
    if args.check:
        weak = sum(d.weakens for d in changed)
        out.write("policy OK" + (f" ({weak} weakening difference(s), signed by an "
                                 "administrator)" if weak else "") + "\n")
        _differences(changed)
    out.write("files (merged in this order):\n")
    for name in loaded.files:
        out.write(f"  {name}\n")
    out.write("roles:\n")
    for name, role in sorted(policy.roles.items()):
        budget = policy.budget(name)
        kind = "person" if role.human else "service"
        out.write(f"  {name} ({kind}): steps {budget.max_steps}, tool calls "
                  f"{budget.max_tool_calls}, {budget.seconds_per_question:g} s/question\n")
        out.write(f"    tools: {', '.join(role.tools) or '-'}\n")
        if role.deny_tools:
            out.write(f"    denied: {', '.join(role.deny_tools)}\n")
    w = policy.writes
    out.write(f"writes: approvers {', '.join(w.approver_roles)}, two-person rule "
              f"{'on' if w.two_person_rule else 'off'}, approvals expire after "
              f"{w.approval_expiry_minutes:g} min\n")
    for rule in w.rules:
        out.write(f"  {rule.name}: {rule.namespace_uri} {rule.browse_path} "
                  f"[{rule.min:g}, {rule.max:g}] step <= {rule.max_step:g}\n")
    if not w.rules:
        out.write("  (no node is writable)\n")
    out.write(f"fixes: approved by {', '.join(policy.fixes.approver_roles)}\n")
    out.write(f"network allowlist: {', '.join(policy.network.allowlist) or 'loopback only'}\n")
    r = policy.retention
    out.write(f"retention: audit {r.audit_days} d, history {r.history_days} d, "
              f"reports {r.reports_days} d\n")
    q = policy.qualification
    out.write(f"qualification: {'required' if q.require_qualified else 'not required'} to run "
              f"a model; answers >= {q.min_answer_rate:.0%}, grounded >= "
              f"{q.min_grounded_rate:.0%}, valid steps >= {q.min_step_validity:.0%}\n")
    return 0


def _differences(changed: list[Difference]) -> None:
    out = sys.stdout
    if not changed:
        out.write("no differences from the shipped policy\n")
        return
    out.write(f"differences from the shipped policy ({len(changed)}):\n")
    for d in changed:
        out.write(f"  {d}\n")
