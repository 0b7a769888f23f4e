"""How a site's policy differs from the shipped one, and which differences weaken it.

A site may tighten the shipped policy freely; a difference that relaxes it (the
two-person rule off, more approver or audit reviewer roles, fewer approvals, a new
writable node, wider bounds, more networks, bigger budgets, longer shelves, a model
without qualification, people acting from shared accounts) is listed as weakening, and
the runtime loads such a policy only when an enrolled administrator signed the site's
files (agent/people/overlays.py). ``plantagent policy check`` prints every difference.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from agent.policy.models import Policy

#: Booleans whose shipped ``True`` is the strict setting.
_STRICT_TRUE = ("writes.two_person_rule", "alarms.shelving.two_person_rule",
                "alarms.shelving.approval", "qualification.require_qualified",
                "people.match_os_account", "rule.two_person_rule")
#: Booleans whose ``True`` relaxes.
_LOOSE_TRUE = ("alarms.shelving.allow_highest_priority", "roles.*.human",
               "people.unenrolled_may_ask")
#: Numbers that relax when they grow, and when they shrink.
_LOOSE_UP = ("budgets.*", "writes.approval_expiry_minutes", "alarms.shelving.max_minutes",
             "alarms.shelving.request_expiry_minutes", "rule.max", "rule.max_step",
             "rule.approval_expiry_minutes", "retention.*")
_LOOSE_DOWN = ("writes.approvals", "rule.min", "rule.approvals", "qualification.min_*",
               "qualification.max_*")
#: Lists that relax when they gain an item, and when they lose one.
_LOOSE_ADD = ("network.allowlist", "writes.approver_roles", "fixes.approver_roles",
              "alarms.shelving.approver_roles", "roles.*.tools", "rule.approver_roles",
              "audit.reviewer_roles")
_LOOSE_REMOVE = ("roles.*.deny_tools",)


@dataclass(frozen=True)
class Difference:
    """One setting the site's policy changes."""

    path: str
    shipped: Any
    site: Any
    weakens: bool

    def __str__(self) -> str:
        mark = "WEAKENS" if self.weakens else "tightens/changes"
        return f"{self.path}: {self.shipped!r} -> {self.site!r} ({mark})"


def differences(shipped: Policy, site: Policy) -> list[Difference]:
    """Every setting ``site`` changes from ``shipped``, weakening ones marked."""
    old, new = _flatten(shipped), _flatten(site)
    out = []
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path, _MISSING), new.get(path, _MISSING)
        if a == b:
            continue
        if path.startswith("writes.rules[") and "]." in path:
            parent = path.split("].", 1)[0] + "]"
            if parent not in old or parent not in new:
                continue  # a rule added or removed is one difference, not one per field
        out.append(Difference(path, None if a is _MISSING else a,
                              None if b is _MISSING else b, _weakens(path, a, b)))
    return out


_MISSING: Any = object()


def _flatten(policy: Policy) -> dict[str, Any]:
    data = policy.model_dump(mode="json")
    rules = data["writes"].pop("rules")
    flat: dict[str, Any] = {}
    _walk(data, "", flat)
    for rule in rules:
        key = f"writes.rules[{rule.pop('namespace_uri')} {rule.pop('browse_path')}]"
        flat[key] = "writable"
        for field, value in rule.items():
            if field != "name":
                flat[f"{key}.{field}"] = value
    return flat


def _walk(value: Any, prefix: str, flat: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _walk(item, f"{prefix}.{key}" if prefix else str(key), flat)
    else:
        flat[prefix] = value


def _kind(path: str) -> str:
    if path.startswith("writes.rules["):
        return "rule." + path.split("].", 1)[1] if "]." in path else "rule"
    return path


def _matches(path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


def _weakens(path: str, old: Any, new: Any) -> bool:
    kind = _kind(path)
    if kind == "rule" or (old is _MISSING and (path.startswith("roles.")
                                               or kind.startswith("rule."))):
        return new is not _MISSING  # a new writable node, a new role or a new override
    if new is _MISSING or old is _MISSING:
        return old is _MISSING
    if isinstance(old, bool) or isinstance(new, bool):
        if _matches(kind, _STRICT_TRUE):
            return bool(old) and not new
        if _matches(kind, _LOOSE_TRUE):
            return not old and bool(new)
        return False
    if isinstance(old, int | float) and isinstance(new, int | float):
        if _matches(kind, _LOOSE_UP):
            return new > old
        if _matches(kind, _LOOSE_DOWN):
            return new < old
        return False
    if isinstance(old, list) and isinstance(new, list):
        if _matches(kind, _LOOSE_ADD):
            return any(item not in old for item in new)
        if _matches(kind, _LOOSE_REMOVE):
            return any(item not in new for item in old)
        return False
    if old is None or new is None:  # an optional limit set or lifted
        return new is None and _matches(kind, _LOOSE_UP + _LOOSE_DOWN)
    return False
