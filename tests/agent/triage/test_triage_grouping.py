"""Grouping of alarm events into incidents (pure logic, no server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.triage.grouping import group_alarms
from agent.triage.models import AlarmEvent

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def alarm(cond: str, seconds: float, active: bool = True) -> AlarmEvent:
    tag = cond.rsplit(".", 1)[0]
    return AlarmEvent(condition=cond, tag=tag, equipment=tag.split(".")[0],
                      time=T0 + timedelta(seconds=seconds), active=active)


def test_triage_duplicates_are_one_incident_per_equipment() -> None:
    events = [alarm("P-101.Vibration.High", 0), alarm("P-101.Vibration.High", 0),
              alarm("P-101.BearingTemperature.High", 60), alarm("C-101.OilTemperature.High", 5)]
    incidents = group_alarms(events)
    assert sorted(i.equipment[0] for i in incidents) == ["C-101", "P-101"]
    pump = next(i for i in incidents if i.equipment == ["P-101"])
    assert pump.first_out is not None and pump.first_out.condition == "P-101.Vibration.High"
    assert len(pump.alarms) == 2


def test_triage_flood_is_one_incident_with_first_out() -> None:
    tags = [f"E-{i}.Value.High" for i in range(12)]
    events = [alarm(c, 30 + 20 * i) for i, c in enumerate(tags)]
    events.append(alarm("X-1.Pressure.Low", 10))  # earliest: the first-out
    incidents = group_alarms(events)
    assert len(incidents) == 1
    flood = incidents[0]
    assert flood.kind == "flood"
    assert flood.first_out is not None and flood.first_out.condition == "X-1.Pressure.Low"
    assert len(flood.equipment) == 13


def test_triage_ten_alarms_spread_over_an_hour_are_not_a_flood() -> None:
    events = [alarm(f"E-{i}.Value.High", 400 * i) for i in range(12)]
    assert all(i.kind == "alarm" for i in group_alarms(events))


def test_triage_flapping_alarm_is_one_flagged_incident() -> None:
    events = []
    for k in range(4):
        events.append(alarm("M-101.Current.High", 100 * k))
        events.append(alarm("M-101.Current.High", 100 * k + 50, active=False))
    incidents = group_alarms(events)
    assert len(incidents) == 1
    assert incidents[0].flapping == ["M-101.Current.High"]
    assert "flapping" in incidents[0].summary
    # The key stays that of the first activation: a re-raise is not a new incident.
    again = group_alarms([*events, alarm("M-101.Current.High", 900)])
    assert again[0].key == incidents[0].key
