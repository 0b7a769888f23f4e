"""Name patterns of the policy: tool name wildcards and browse path patterns.

A browse path pattern is matched level by level, never as one string, so ``*`` can not
slip across a ``/`` into a node the rule did not mean: ``*`` (or ``Pump*``) matches one
browse name, ``**`` any number of levels (including none).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase

#: Letters a rule's last level must spell out besides its wildcards.
MIN_LITERAL = 3


def tool_matches(name: str, patterns: Iterable[str]) -> str | None:
    """The first pattern matching tool ``name`` (case-sensitive), or None."""
    for pattern in patterns:
        if fnmatchcase(name, pattern):
            return pattern
    return None


def tool_matches_any(pattern: str, names: Iterable[str]) -> str | None:
    """The first tool name ``pattern`` matches, or None."""
    for name in names:
        if fnmatchcase(name, pattern):
            return name
    return None


def check_browse_pattern(pattern: str) -> None:
    """ValueError naming the fix when ``pattern`` is not a usable browse path pattern."""
    if pattern.startswith("/") or pattern.endswith("/"):
        raise ValueError(f"browse path {pattern!r} must not start or end with '/'")
    parts = pattern.split("/")
    if any(not p for p in parts):
        raise ValueError(f"browse path {pattern!r} has an empty level ('//')")
    if parts[-1] == "**" or parts[-1] == "*":
        # A rule must name the variable; "everything under X" is too broad to approve.
        raise ValueError(
            f"browse path {pattern!r} must end with the variable's browse name, "
            "not a bare wildcard"
        )
    literal = re.sub(r"\[[^\]]*\]|[*?\[\]]", "", parts[-1])
    if literal != parts[-1] and len(literal) < MIN_LITERAL:
        # '?*', '*?', '[A-Z]*', 'X*' ... would match (nearly) every variable under the path.
        raise ValueError(
            f"browse path {pattern!r} ends in {parts[-1]!r}, which matches (nearly) any "
            f"variable: the last level must spell at least {MIN_LITERAL} characters of the "
            "variable's name, e.g. '*Setpoint'"
        )
    for part in parts:
        if "**" in part and part != "**":
            raise ValueError(f"'**' must be a whole level in {pattern!r}, e.g. '**/T-101/X'")


def browse_path_matches(pattern: str, path: Sequence[str]) -> bool:
    """True when the browse names ``path`` (from Objects down) match ``pattern``."""
    return _match(pattern.split("/"), list(path))


def _match(parts: list[str], path: list[str]) -> bool:
    if not parts:
        return not path
    head, rest = parts[0], parts[1:]
    if head == "**":
        return any(_match(rest, path[i:]) for i in range(len(path) + 1))
    if not path:
        return False
    return fnmatchcase(path[0], head) and _match(rest, path[1:])
