"""Ordering release versions without ``packaging`` (not in the standard library).

Enough of PEP 440 for our releases: numeric release segments, then dev < pre-release
(a, b, rc) < final < post. Local versions (``+...``) and epochs are not used by plantagent
and compare by their release part only.
"""

from __future__ import annotations

import re

_VERSION = re.compile(
    r"^v?(?:\d+!)?(?P<release>\d+(?:\.\d+)*)"
    r"(?:[-_.]?(?P<pre>a|b|rc|alpha|beta|c)[-_.]?(?P<pre_n>\d*))?"
    r"(?:[-_.]?(?:post|rev|r)[-_.]?(?P<post>\d*))?"
    r"(?:[-_.]?dev[-_.]?(?P<dev>\d*))?"
    r"(?:\+[a-z0-9.]+)?$",
    re.IGNORECASE,
)
_PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2}

VersionKey = tuple[tuple[int, ...], int, int, int, int]


def version_key(text: str) -> VersionKey:
    """A sortable key of a version string; ValueError when it is not a version."""
    match = _VERSION.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a version")
    release = tuple(int(p) for p in match.group("release").split("."))
    while len(release) > 1 and release[-1] == 0:
        release = release[:-1]  # 1.0 == 1.0.0
    pre = match.group("pre")
    dev = match.group("dev")
    if pre is not None:
        stage, stage_n = _PRE_RANK[pre.lower()], int(match.group("pre_n") or 0)
    elif dev is not None and match.group("post") is None:
        stage, stage_n = -1, 0  # 1.0.dev1 sorts before 1.0a1
    else:
        stage, stage_n = 3, 0
    post = int(match.group("post") or 0) + 1 if match.group("post") is not None else 0
    dev_rank = int(dev or 0) if dev is not None else 1 << 30
    return (release, stage, stage_n, post, dev_rank)


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as version ``a`` is older than, equal to or newer than ``b``."""
    ka, kb = version_key(a), version_key(b)
    return (ka > kb) - (ka < kb)
