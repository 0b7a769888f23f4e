"""Durations and times as people type them, one grammar for every command and screen.

A duration is one or more parts of a number and a unit, largest first or not, with
spaces and case ignored: ``90s``, ``15m``, ``8h``, ``1h30m``, ``2d``, ``1w``, ``1.5h``.
Units: ``s`` seconds, ``m`` minutes, ``h`` hours, ``d`` days, ``w`` weeks. It must be
longer than zero. A time (``audit search --since``, the audit screen's filters) is an
ISO-8601 time (UTC when it carries no offset) or a duration meaning that long before now.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from agent.errors import UsageError

_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
#: The example every error shows.
EXAMPLES = "30m, 8h, 1d or 1h30m"
#: The longest duration any window or age may be (nothing here has older data).
MAX_DURATION = timedelta(days=100 * 365)


def _fix(option: str | None) -> str:
    where = f"{option} " if option else ""
    return f"give a number with a unit s, m, h, d or w, e.g. {where}{EXAMPLES}"


def parse_duration(text: str, *, option: str | None = "--since") -> timedelta:
    """'8h' -> 8 hours; UsageError naming the accepted forms (as typed after ``option``)
    for anything else, and for zero."""
    total = _parse(text, option)
    if total <= timedelta(0):
        where = f"{option} " if option else ""
        raise UsageError(f"the duration {text!r} is zero",
                         fix=f"give a duration longer than zero, e.g. {where}8h")
    return total


def _parse(text: str, option: str | None) -> timedelta:
    cleaned = text.strip().lower().replace(" ", "")
    parts = _PART.findall(cleaned)
    if not cleaned or "".join(n + u for n, u in parts) != cleaned:
        raise UsageError(f"cannot read the duration {text!r}", fix=_fix(option))
    total = timedelta()
    try:
        for amount, unit in parts:
            total += timedelta(**{_UNITS[unit]: float(amount)})
    except OverflowError:
        raise UsageError(f"the duration {text!r} is longer than any calendar reaches",
                         fix=_fix(option)) from None
    if total > MAX_DURATION:
        raise UsageError(f"the duration {text!r} is longer than {MAX_DURATION.days // 365} "
                         "years", fix=_fix(option))
    return total


def parse_minutes(text: str, *, option: str | None = "--since") -> float:
    """A duration in minutes (``90s`` -> 1.5), for windows the tools take in minutes."""
    return parse_duration(text, option=option).total_seconds() / 60.0


def parse_time(
    text: str | None, now: datetime, *, error: type[UsageError] = UsageError
) -> datetime | None:
    """An ISO time (UTC when it has no offset) or an age like ``2h`` before ``now``;
    None for nothing typed. ``error`` is the UsageError raised for anything else (the
    audit commands raise their own kind)."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            return now - _parse(text, None)  # an age of 0 is now, a time like any other
        except (UsageError, OverflowError):
            raise error(
                f"cannot read the time {text!r}",
                fix="give an ISO time like 2026-03-01T08:00 (UTC) or an age like "
                "8h, 30m, 2d or 1h30m",
            ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
