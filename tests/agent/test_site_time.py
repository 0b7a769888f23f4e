"""The site's clock: local times with the date where it is not today, shifts across
midnight and summer time, and the settings that configure it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.errors import ConfigError
from agent.settings import load_settings
from agent.site_time import SiteTime, short_age

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 1, 14, 30, tzinfo=UTC)  # 15:30 in Berlin (CET, +1)


def _site(now: datetime = NOW, starts: tuple[time, ...] = (time(6), time(14), time(22)),
          ) -> SiteTime:
    return SiteTime(zone=BERLIN, shift_starts=starts, clock=lambda: now)


def test_show_gives_the_local_clock_and_the_date_only_when_not_today() -> None:
    site = _site()
    assert site.show(NOW) == "15:30:00"
    assert site.show(NOW - timedelta(days=1), seconds=False) == "02-28 15:30"
    assert site.show(datetime(2025, 12, 30, 23, 30, tzinfo=UTC)) == "2025-12-31 00:30:00"
    assert site.show(None) == "?"
    # A naive time is taken as UTC, as the stores keep them.
    assert site.show(datetime(2026, 3, 1, 8, 0)) == "09:00:00"
    assert site.stamp(NOW) == "2026-03-01 15:30:00 CET"
    assert site.zone_name == "CET"


def test_ages_read_short() -> None:
    assert [short_age(s) for s in (-5, 45, 720, 3 * 3600 + 300, 2 * 86400 + 4 * 3600)] == [
        "0s", "45s", "12m", "3h05m", "2d04h"]
    assert _site().age(NOW - timedelta(minutes=12)) == "12m"


def test_the_shift_a_moment_falls_in_wraps_past_midnight() -> None:
    site = _site()
    day = site.shift_at(NOW)
    assert (day.name, day.start.hour, day.end.hour, day.hours) == ("14:00 shift", 14, 22, 8.0)
    night = site.shift_at(datetime(2026, 3, 1, 2, 0, tzinfo=UTC))  # 03:00 local
    assert night.name == "22:00 shift"
    assert night.start == datetime(2026, 2, 28, 22, 0, tzinfo=BERLIN)
    assert night.end == datetime(2026, 3, 1, 6, 0, tzinfo=BERLIN)


def test_a_handover_covers_the_current_shift_or_within_grace_the_one_that_ended() -> None:
    shift, until = _site().handover_shift()
    assert shift.name == "14:00 shift" and until == NOW
    early = datetime(2026, 3, 1, 13, 20, tzinfo=UTC)  # 14:20 local, 20 min into the shift
    shift, until = _site(early).handover_shift()
    assert shift.name == "06:00 shift"
    assert (shift.start, until) == (datetime(2026, 3, 1, 6, 0, tzinfo=BERLIN),
                                    datetime(2026, 3, 1, 14, 0, tzinfo=BERLIN))
    assert _site().last_shift().name == "06:00 shift"


def test_a_shift_across_the_change_to_summer_time_is_an_hour_short() -> None:
    # 2026-03-29 02:00 CET becomes 03:00 CEST: the night shift lasts 7 hours.
    site = _site(datetime(2026, 3, 29, 3, 0, tzinfo=UTC))
    night = site.shift_at(site.clock())
    assert night.name == "22:00 shift" and night.hours == 7.0


def test_two_shift_patterns_work_too() -> None:
    site = _site(starts=(time(7), time(19)))
    assert site.shift_at(NOW).name == "07:00 shift"
    assert site.shift_at(NOW).hours == 12.0


def test_site_settings_are_read_and_checked(tmp_path: Path) -> None:
    (tmp_path / "plantagent.toml").write_text(
        '[site]\ntimezone = "America/Chicago"\nshift_starts = ["19:00", "7:00"]\n')
    settings = load_settings(home=tmp_path)
    site = SiteTime.from_settings(settings, clock=lambda: NOW)
    assert site.shift_starts == (time(7), time(19))
    assert site.now().utcoffset() == timedelta(hours=-6)
    for bad, words in (('timezone = "Mars/Olympus"', "unknown time zone"),
                       ('shift_starts = ["25:00"]', "not a time of day"),
                       ('shift_starts = ["06:00", "6:00"]', "listed twice")):
        (tmp_path / "plantagent.toml").write_text(f"[site]\n{bad}\n")
        with pytest.raises(ConfigError, match=words):
            load_settings(home=tmp_path)
