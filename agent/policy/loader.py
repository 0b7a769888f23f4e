"""Load the policy: the shipped files, the site's files merged over them, checked strictly.

Order: every ``*.toml`` in the ``policies`` package (sorted by name), then every ``*.toml``
in ``$PLANTAGENT_HOME/policies/`` (sorted). Tables merge key by key; any other value,
lists included, replaces what came before. The merged document is validated as one
:class:`~agent.policy.models.Policy`.

Any problem — TOML syntax, an unknown key, a wrong type, a role that is not defined —
raises :class:`~agent.errors.ConfigError` naming the file, the key and the fix. There is
no fallback: a site with a broken policy does not start.
"""

from __future__ import annotations

import copy
import difflib
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from agent.errors import ConfigError
from agent.policy.models import Budget, Policy

POLICY_DIR_NAME = "policies"
Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class PolicySource:
    """One policy file as read: a name to show and its text."""

    name: str
    text: str


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the policy, located in a file."""

    file: str
    key: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message} (fix: {self.fix})"


@dataclass
class LoadedPolicy:
    """The effective policy and the files it was built from, in merge order."""

    policy: Policy
    files: list[str] = field(default_factory=list)


def shipped_sources() -> list[PolicySource]:
    """The default policy files shipped in the ``policies`` package."""
    root = resources.files("policies")
    entries = sorted((e for e in root.iterdir() if e.name.endswith(".toml")), key=lambda e: e.name)
    return [PolicySource(f"policies/{e.name} (shipped)", e.read_text("utf-8")) for e in entries]


def site_policy_dir(home: Path) -> Path:
    """Where a site's policy overrides live."""
    return home / POLICY_DIR_NAME


def site_sources(home: Path) -> list[PolicySource]:
    """The site's override files, sorted by name; none when the directory is absent."""
    directory = site_policy_dir(home)
    if not directory.is_dir():
        return []
    out = []
    for path in sorted(directory.glob("*.toml")):
        try:
            out.append(PolicySource(str(path), path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"cannot read the policy file {path}: {exc}",
                fix=f"make {path} a readable UTF-8 TOML file, or remove it",
            ) from None
    return out


def load_policy(home: Path | None) -> LoadedPolicy:
    """The effective policy of the site at ``home`` (shipped defaults only when None)."""
    sources = shipped_sources() + (site_sources(home) if home is not None else [])
    return build_policy(sources)


def build_policy(sources: list[PolicySource]) -> LoadedPolicy:
    """Merge and validate ``sources`` in order; ConfigError listing every problem."""
    merged: dict[str, Any] = {}
    origin: dict[Loc, str] = {}
    for source in sources:
        try:
            data = tomllib.loads(source.text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"the policy file {source.name} is not valid TOML: {exc}",
                fix=f"correct the syntax in {source.name}; the agent does not start "
                "with a broken policy",
            ) from None
        _merge(merged, data, source.name, origin, ())
    try:
        policy = Policy.model_validate(merged)
    except ValidationError as exc:
        raise _config_error([_problem(err, origin) for err in exc.errors()]) from None
    problems = cross_check(policy, origin)
    if problems:
        raise _config_error(problems)
    return LoadedPolicy(policy, [s.name for s in sources])


def _merge(
    base: dict[str, Any], top: dict[str, Any], source: str, origin: dict[Loc, str], path: Loc
) -> None:
    for key, value in top.items():
        here = (*path, key)
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            origin.setdefault(here, source)
            _merge(base[key], value, source, origin, here)
        else:
            for stale in [loc for loc in origin if loc[: len(here)] == here]:
                del origin[stale]
            base[key] = copy.deepcopy(value)
            _mark(value, source, origin, here)


def _mark(value: Any, source: str, origin: dict[Loc, str], path: Loc) -> None:
    origin[path] = source
    if isinstance(value, dict):
        for key, item in value.items():
            _mark(item, source, origin, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _mark(item, source, origin, (*path, index))


def _file_of(loc: Loc, origin: dict[Loc, str]) -> str:
    for end in range(len(loc), 0, -1):
        if loc[:end] in origin:
            return origin[loc[:end]]
    return "the merged policy"


def _key(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _strip_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, UnionType):
        kept = [a for a in get_args(annotation) if a is not NoneType]
        if len(kept) == 1:
            return kept[0]
    return annotation


def _fields_at(loc: Loc) -> list[str]:
    """The keys the policy schema allows in the table at ``loc``."""
    current: Any = Policy
    for part in loc:
        current = _strip_optional(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                return []
            current = info.annotation
        elif get_origin(current) in (dict, list):
            current = get_args(current)[-1]
        else:
            return []
    current = _strip_optional(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _problem(err: Any, origin: dict[Loc, str]) -> Problem:
    loc: Loc = tuple(err["loc"])
    file = _file_of(loc, origin)
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _fields_at(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
        where = f"[{_key(loc[:-1])}]" if loc[:-1] else "the top level"
        fix = (
            f"did you mean {close[0]!r}? rename the key"
            if close
            else f"remove it; allowed keys in {where}: {', '.join(allowed) or 'none'}"
        )
        return Problem(file, _key(loc), f"unknown key {loc[-1]!r}", fix)
    if kind == "missing":
        return Problem(file, _key(loc), "required key is missing", f"add {loc[-1]} = ...")
    value = err.get("input")
    shown = repr(value) if not isinstance(value, dict) else "a table"
    return Problem(file, _key(loc), f"{err['msg']} (got {shown})", "give a value of that type")


def cross_check(policy: Policy, origin: dict[Loc, str]) -> list[Problem]:
    """Problems pydantic cannot see alone: unknown or non-human roles, a partial default."""
    problems: list[Problem] = []
    roles = sorted(policy.roles)

    def unknown(loc: Loc, name: str) -> Problem:
        close = difflib.get_close_matches(name, roles, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return Problem(
            _file_of(loc, origin), _key(loc), f"role {name!r} is not defined",
            f"{hint}use one of {', '.join(roles)}, or define [roles.{name}]",
        )

    default = policy.budgets.get("default")
    if default is None:
        problems.append(Problem(
            _file_of(("budgets",), origin), "budgets.default", "the default budget is missing",
            "add [budgets.default] with max_steps, max_tool_calls and seconds_per_question",
        ))
    else:
        unset = [k for k in Budget.model_fields if getattr(default, k) is None]
        if unset:
            problems.append(Problem(
                _file_of(("budgets", "default"), origin), "budgets.default",
                f"the default budget does not set {', '.join(unset)}",
                f"add {' and '.join(unset)} to [budgets.default]",
            ))
    problems += [unknown(("budgets", n), n) for n in policy.budgets if n != "default" and
                 n not in policy.roles]

    approver_lists: list[tuple[Loc, list[str]]] = [
        (("writes", "approver_roles"), policy.writes.approver_roles),
        (("fixes", "approver_roles"), policy.fixes.approver_roles),
        (("alarms", "shelving", "approver_roles"), policy.alarms.shelving.approver_roles),
        # Reviewers sign their notes with their own key: people, not service accounts.
        (("audit", "reviewer_roles"), policy.audit.reviewer_roles),
    ]
    for i, rule in enumerate(policy.writes.rules):
        if rule.approver_roles is not None:
            approver_lists.append((("writes", "rules", i, "approver_roles"), rule.approver_roles))
    for loc, names in approver_lists:
        for name in names:
            if name not in policy.roles:
                problems.append(unknown(loc, name))
            elif not policy.roles[name].human:
                problems.append(Problem(
                    _file_of(loc, origin), _key(loc),
                    f"role {name!r} is a service account (human = false) and can not approve",
                    "list only roles of people as approvers",
                ))
    names = [r.name for r in policy.writes.rules]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(Problem(
            _file_of(("writes", "rules"), origin), "writes.rules",
            f"two write rules are named {dup!r}", "give every rule its own name",
        ))
    return problems


def _config_error(problems: list[Problem]) -> ConfigError:
    first = problems[0]
    lines = "\n  ".join(str(p) for p in problems)
    return ConfigError(
        f"the policy is invalid ({len(problems)} problem(s)); the agent will not start:\n  "
        f"{lines}",
        fix=f"{first.fix} in {first.file}; `plantagent policy check` re-checks",
    )
