"""The site's clock as people read it: times in the site's time zone, the date only where
it is not today, and the shift a moment belongs to.

Everything is stored and compared in UTC; only what is shown goes through here. The zone
is ``[site] timezone`` (an IANA name) or the machine's own; the shifts are
``[site] shift_starts`` (local start times, e.g. 06:00, 14:00, 22:00). The clock giving
"today" is injectable, so screens recorded for snapshot tests read the same every run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from agent.settings import Settings, SiteSettings


def _utcnow() -> datetime:
    return datetime.now(UTC)


def machine_zone() -> tzinfo:
    """The machine's own time zone (what ``date`` shows)."""
    zone = datetime.now().astimezone().tzinfo
    return zone if zone is not None else UTC


def zone_of(site: SiteSettings) -> tzinfo:
    """The site's zone: the configured IANA zone, else the machine's."""
    return ZoneInfo(site.timezone) if site.timezone else machine_zone()


@dataclass(frozen=True)
class Shift:
    """One shift: its local start, its end, and its name ('06:00 shift')."""

    start: datetime
    end: datetime
    name: str

    @property
    def hours(self) -> float:
        """Its length in hours (in UTC: a shift across a change to or from summer time is
        an hour shorter or longer than its wall clock says)."""
        return (self.end.astimezone(UTC) - self.start.astimezone(UTC)).total_seconds() / 3600.0


@dataclass(frozen=True)
class SiteTime:
    """Formats times for people and finds shifts, in one zone."""

    zone: tzinfo = UTC
    shift_starts: tuple[time, ...] = (time(6), time(14), time(22))
    grace: timedelta = timedelta(hours=1)
    clock: Callable[[], datetime] = field(default=_utcnow, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings,
                      clock: Callable[[], datetime] = _utcnow) -> SiteTime:
        """The site's clock from ``[site]``."""
        site = settings.site
        starts = tuple(time(int(s[:2]), int(s[3:5])) for s in site.shift_starts)
        return cls(zone=zone_of(site), shift_starts=starts,
                   grace=timedelta(minutes=site.handover_grace_minutes), clock=clock)

    # -- showing a time ---------------------------------------------------------------------

    @property
    def zone_name(self) -> str:
        """The zone's short name now ('CET', 'UTC')."""
        return self.now().strftime("%Z") or "local"

    def now(self) -> datetime:
        """Now, in the site's zone."""
        return self.clock().astimezone(self.zone)

    def local(self, moment: datetime) -> datetime:
        """``moment`` in the site's zone (a naive one is taken as UTC)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.zone)

    def show(self, moment: datetime | None, *, seconds: bool = True,
             missing: str = "?") -> str:
        """'14:03:05' today, '02-27 14:03:05' earlier this year, '2025-12-30 14:03:05'
        before that (minutes only with ``seconds=False``)."""
        if moment is None:
            return missing
        here = self.local(moment)
        clock = here.strftime("%H:%M:%S" if seconds else "%H:%M")
        today = self.now().date()
        if here.date() == today:
            return clock
        if here.year == today.year:
            return f"{here:%m-%d} {clock}"
        return f"{here:%Y-%m-%d} {clock}"

    def stamp(self, moment: datetime | None, *, missing: str = "?") -> str:
        """The full local time with its zone, for reports kept for later:
        '2026-03-01 15:00:00 CET'."""
        if moment is None:
            return missing
        here = self.local(moment)
        return f"{here:%Y-%m-%d %H:%M:%S} {here.strftime('%Z') or 'local'}".rstrip()

    def age(self, moment: datetime | None) -> str:
        """How long ago: '45s', '12m', '3h05m', '2d04h' ('' for none)."""
        if moment is None:
            return ""
        return short_age((self.clock() - self.local(moment)).total_seconds())

    # -- shifts -------------------------------------------------------------------------

    def shift_at(self, moment: datetime) -> Shift:
        """The shift ``moment`` falls in."""
        here = self.local(moment)
        # Compared in UTC: aware times sharing one zone object compare by wall clock,
        # which is an hour off across a change to or from summer time.
        starts = sorted(
            _at(day, t, self.zone).astimezone(UTC)
            for day in (here.date() - timedelta(days=1), here.date(),
                        here.date() + timedelta(days=1))
            for t in self.shift_starts)
        start = [s for s in starts if s <= here.astimezone(UTC)][-1]
        end = next(s for s in starts if s > start)
        local_start = start.astimezone(self.zone)
        return Shift(start=local_start, end=end.astimezone(self.zone),
                     name=f"{local_start:%H:%M} shift")

    def handover_shift(self, moment: datetime | None = None) -> tuple[Shift, datetime]:
        """The shift a handover written at ``moment`` (default now) covers, and where it
        ends: the current shift up to now; within ``grace`` of a shift's start, the
        shift that just ended, whole."""
        here = self.local(moment or self.clock())
        current = self.shift_at(here)
        if here.astimezone(UTC) - current.start.astimezone(UTC) < self.grace:
            previous = self.shift_at(current.start - timedelta(seconds=1))
            return previous, previous.end
        return current, here

    def last_shift(self, moment: datetime | None = None) -> Shift:
        """The last shift that has ended by ``moment`` (default now)."""
        current = self.shift_at(self.local(moment or self.clock()))
        return self.shift_at(current.start - timedelta(seconds=1))


def _at(day: object, clock: time, zone: tzinfo) -> datetime:
    # A wall-clock time of one day in the zone; fold=0 takes the first of a doubled hour.
    return datetime.combine(day, clock, tzinfo=zone)  # type: ignore[arg-type]


def short_age(seconds: float) -> str:
    """'45s', '12m', '3h05m', '2d04h' for an age in seconds (negative counts as 0)."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"
