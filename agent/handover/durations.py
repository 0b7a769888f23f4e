"""Durations as people type them for a handover window: 30m, 8h, 1d, 1h30m."""

from __future__ import annotations

import re
from datetime import timedelta

from agent.errors import UsageError

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([dhm])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_duration(text: str) -> timedelta:
    """'8h' -> 8 hours; UsageError naming the accepted forms for anything else."""
    cleaned = text.strip().lower().replace(" ", "")
    parts = _PART.findall(cleaned)
    if not cleaned or "".join(n + u for n, u in parts) != cleaned:
        raise UsageError(
            f"cannot read the duration {text!r}",
            fix="give a number with a unit m, h or d, e.g. --since 30m, 8h, 1d or 1h30m",
        )
    total = timedelta()
    for amount, unit in parts:
        total += timedelta(**{_UNITS[unit]: float(amount)})
    if total <= timedelta(0):
        raise UsageError(f"the duration {text!r} is zero",
                         fix="give a duration longer than zero, e.g. --since 8h")
    return total
