"""One duration grammar everywhere: --since of handover, opcua, twin and audit, the audit
screen's filters (moved here from the handover, OPC UA CLI and review tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.audit.errors import AuditUsageError
from agent.durations import parse_duration, parse_minutes, parse_time
from agent.errors import UsageError

NOW = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("30m", timedelta(minutes=30)), ("8h", timedelta(hours=8)), ("1d", timedelta(days=1)),
    ("1h30m", timedelta(minutes=90)), (" 1.5H ", timedelta(minutes=90)),
    ("90s", timedelta(seconds=90)), ("2d", timedelta(days=2)), ("1w", timedelta(weeks=1)),
    ("15 m", timedelta(minutes=15)), ("1d12h", timedelta(hours=36)),
])
def test_durations_people_type_are_read(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "8", "h", "8 hours", "-1h", "8x", "0m", "1y"])
def test_a_bad_duration_names_the_accepted_forms(text: str) -> None:
    with pytest.raises(UsageError) as bad:
        parse_duration(text)
    assert bad.value.fix and "8h" in bad.value.fix


def test_the_fix_names_the_option_it_was_typed_after() -> None:
    with pytest.raises(UsageError) as bad:
        parse_duration("8x")
    assert bad.value.message == "cannot read the duration '8x'"
    assert bad.value.fix is not None and "--since 30m, 8h, 1d or 1h30m" in bad.value.fix
    with pytest.raises(UsageError) as zero:
        parse_duration("0h", option="--window")
    assert "is zero" in zero.value.message
    assert zero.value.fix is not None and "--window 8h" in zero.value.fix


def test_minutes_for_the_tools_windows() -> None:
    assert parse_minutes("90s") == 1.5
    assert parse_minutes("2h") == 120
    for bad in ("1y", "-1h", "h", "0m"):
        with pytest.raises(UsageError):
            parse_minutes(bad)


@pytest.mark.parametrize(("text", "expected"), [
    ("2h", NOW - timedelta(hours=2)), ("1h30m", NOW - timedelta(minutes=90)),
    ("0m", NOW), ("7d", NOW - timedelta(days=7)),
    ("2026-03-01T08:00", datetime(2026, 3, 1, 8, 0, tzinfo=UTC)),
    ("2026-03-01T08:00+01:00", datetime(2026, 3, 1, 7, 0, tzinfo=UTC)),
    ("", None), ("  ", None), (None, None),
])
def test_times_are_iso_or_an_age(text: str | None, expected: datetime | None) -> None:
    assert parse_time(text, NOW) == expected


def test_an_unreadable_time_is_the_callers_error_with_the_fix() -> None:
    with pytest.raises(AuditUsageError, match="cannot read the time 'yesterday'") as bad:
        parse_time("yesterday", NOW, error=AuditUsageError)
    assert bad.value.fix is not None and "2026-03-01T08:00" in bad.value.fix
    with pytest.raises(UsageError):
        parse_time("8x", NOW)
