"""The site's time over the socket: the service says in ``welcome`` how the site shows
times (its ``[site]`` zone and shifts, agent.site_time), and its clients build the same
:class:`~agent.site_time.SiteTime` from it, so their tables (alarms, audit, approvals)
read in the site's time as they do in process, not in UTC."""

from __future__ import annotations

import os
from datetime import time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agent.serve.service_messages import SiteClock
from agent.settings import Settings
from agent.site_time import SiteTime


def machine_zone_key() -> str | None:
    """The IANA name of this machine's zone (``TZ``, else the ``/etc/localtime`` link),
    None when it has none."""
    found = [os.environ.get("TZ", "").lstrip(":")]
    with_link = Path("/etc/localtime")
    if with_link.is_symlink():
        target = os.path.realpath(with_link)
        if "zoneinfo/" in target:
            found.append(target.split("zoneinfo/", 1)[1])
    for key in found:
        if not key:
            continue
        try:
            ZoneInfo(key)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        return key
    return None


def site_clock(settings: Settings) -> SiteClock:
    """How the service's site shows times: ``[site] timezone`` (else the machine's zone,
    by name where it has one), the shift starts and the handover grace."""
    site = settings.site
    shown = SiteTime.from_settings(settings)
    offset = shown.now().utcoffset() or timedelta(0)
    return SiteClock(timezone=site.timezone or machine_zone_key(),
                     utc_offset_min=round(offset.total_seconds() / 60),
                     shift_starts=list(site.shift_starts),
                     handover_grace_minutes=site.handover_grace_minutes)


def site_time(clock: SiteClock | None) -> SiteTime:
    """The site's clock as the service described it (None, an older service: UTC)."""
    if clock is None:
        return SiteTime()
    try:
        zone: ZoneInfo | timezone = (ZoneInfo(clock.timezone) if clock.timezone
                                     else timezone(timedelta(minutes=clock.utc_offset_min)))
    except (ZoneInfoNotFoundError, ValueError):  # unknown to this machine's zone data
        zone = timezone(timedelta(minutes=clock.utc_offset_min))
    starts = tuple(time(int(s[:2]), int(s[3:5])) for s in clock.shift_starts)
    return SiteTime(zone=zone, shift_starts=starts or SiteTime().shift_starts,
                    grace=timedelta(minutes=clock.handover_grace_minutes))
