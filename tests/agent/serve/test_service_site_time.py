"""The site's time over the socket: the service's welcome says how the site shows times
(its `[site]` zone, shifts and handover grace), and a client builds the same SiteTime as
the site's own process does, so the tables over the service read in the site's time.
Real service over a real Unix socket, the demo plant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.people.identity import os_account
from agent.serve.client import ServiceClient
from agent.serve.service_messages import SiteClock
from agent.serve.site_clock import site_clock, site_time
from agent.serve.site_socket import socket_path
from agent.site_time import SiteTime
from plant.server import DemoPlantServer
from tests.support.runtimes import scripted_runtime
from tests.support.sites import site_settings

from .serve_helpers import HeldModel, enroll, running_service

#: A zone with summer time and a half-hour offset: no machine's own zone by accident.
ZONE = "America/St_Johns"
MOMENTS = [datetime(2026, 1, 15, 12, 0, tzinfo=UTC), datetime(2026, 7, 15, 23, 45, tzinfo=UTC)]


@pytest.mark.asyncio(loop_scope="module")
async def test_the_welcome_carries_the_sites_clock(
    live_plant: DemoPlantServer, site_home: Path, tmp_path: Path
) -> None:
    site = {"timezone": ZONE, "shift_starts": ["07:00", "19:00"],
            "handover_grace_minutes": 30}
    async with scripted_runtime(site_home, live_plant.endpoint, HeldModel(),
                                settings={"site": site}) as runtime:
        enroll(runtime, tmp_path, {"Rita Lead": os_account()})
        async with running_service(runtime), ServiceClient(socket_path(site_home)) as client:
            assert client.welcome is not None
            clock = client.welcome.site_clock
        here = SiteTime.from_settings(runtime.settings)
    assert clock is not None and clock.timezone == ZONE
    there = site_time(clock)
    assert (there.zone, there.shift_starts, there.grace) == (
        here.zone, here.shift_starts, here.grace)
    for moment in MOMENTS:  # winter and summer time
        assert there.show(moment) == here.show(moment) != SiteTime().show(moment)
        assert there.shift_at(moment) == here.shift_at(moment)


def test_a_zone_without_a_name_goes_by_its_offset_and_none_is_utc(tmp_path: Path) -> None:
    moment = MOMENTS[0]
    assert site_time(None).show(moment) == SiteTime().show(moment)
    fixed = site_time(SiteClock(timezone=None, utc_offset_min=330))
    assert fixed.local(moment).utcoffset() == timedelta(minutes=330)
    # A zone this client's zone data does not know: the offset the service sent.
    unknown = site_time(SiteClock(timezone="Nowhere/Special", utc_offset_min=-150))
    assert unknown.local(moment).utcoffset() == timedelta(minutes=-150)
    # Unset [site] timezone: the service's machine zone, by name where it has one.
    settings = site_settings(tmp_path / "site")
    clock = site_clock(settings)
    here = SiteTime.from_settings(settings)
    assert clock.utc_offset_min * 60 == (here.now().utcoffset() or timedelta()).total_seconds()
    assert site_time(clock).show(moment) == here.show(moment)
