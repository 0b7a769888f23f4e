"""The keys the report store remembers (in the real encrypted site): a flapping alarm that
comes back after a restart under a new incident key is still known, two faults found in
one incident are both remembered, and a new story on the same alarm is not hidden."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.runtime import SiteRuntime
from agent.settings import load_settings
from agent.triage.models import AlarmEvent, Candidate, Incident, TriageReport

T0 = datetime(2026, 11, 23, 1, 50, tzinfo=UTC)
COND = "M-101.Current.High"


def _incident(at: datetime) -> Incident:
    alarm = AlarmEvent(condition=COND, tag="M-101.Current", equipment="M-101", time=at,
                       active=True)
    return Incident(key=f"alarm:M-101:{COND}:{at:%H%M%S}", kind="alarm", equipment=["M-101"],
                    tags=["M-101.Current"], onset=at, alarms=[alarm], first_out=alarm)


def _report(incident: Incident, cause: str, rid: str) -> TriageReport:
    return TriageReport(id=rid, incident=incident, created=incident.onset, status="diagnosed",
                        candidates=[Candidate(cause=cause, equipment="CV-101", confidence=0.9)],
                        evidence=[])


def test_a_reraised_alarm_after_restart_is_known_with_its_cause(site_home: Path) -> None:
    with SiteRuntime(load_settings(home=site_home)) as runtime:
        runtime.reports.save(_report(_incident(T0), "conveyor_jam", "TR-1"))
    # Restart: the event log has lost the first activation; it re-raises 20 min later,
    # in the next hour, under a new incident key.
    later = _incident(T0 + timedelta(minutes=20))
    with SiteRuntime(load_settings(home=site_home)) as runtime:
        unseen, tops = runtime.reports.known(later)
    assert unseen  # new activation: the playbook looks again ...
    assert tops == {"conveyor_jam@CV-101"}  # ... and the same story is not reported twice
    far = _incident(T0 + timedelta(hours=3))
    with SiteRuntime(load_settings(home=site_home)) as runtime:
        assert runtime.reports.known(far)[1] == set()


def test_two_causes_of_one_incident_are_both_remembered(site_home: Path) -> None:
    inc = _incident(T0)
    with SiteRuntime(load_settings(home=site_home)) as runtime:
        store = runtime.reports
        store.save(_report(inc, "conveyor_jam", "TR-1"))
        store.save(_report(inc.model_copy(update={"key": inc.key + "/b"}), "bearing_wear",
                           "TR-2"))
        unseen, tops = store.known(inc)
    assert unseen == []
    assert tops == {"conveyor_jam@CV-101", "bearing_wear@CV-101"}


def test_an_undiagnosed_incident_is_remembered_across_a_restart_until_diagnosed(
        site_home: Path) -> None:
    inc = _incident(T0)
    thin = TriageReport(id="TR-1", incident=inc, created=T0, status="insufficient_evidence",
                        candidates=[], evidence=[])
    with SiteRuntime(load_settings(home=site_home)) as runtime:
        assert runtime.reports.undiagnosed(inc) is None  # never reported
        runtime.reports.save(thin)
        assert runtime.reports.undiagnosed(inc) == (T0, 0)
        assert runtime.reports.looked_again(inc, T0 + timedelta(minutes=5)) == 1
    # A new alarm of the same incident, after a restart: still undiagnosed, and when.
    grown = inc.model_copy(update={"alarms": [*inc.alarms, inc.alarms[0].model_copy(
        update={"time": T0 + timedelta(minutes=7)})]})
    with SiteRuntime(load_settings(home=site_home)) as runtime:
        assert runtime.reports.known(grown)[0]  # the new activation is not known yet
        assert runtime.reports.undiagnosed(grown) == (T0 + timedelta(minutes=5), 1)
        runtime.reports.save(_report(grown, "conveyor_jam", "TR-2"))
        assert runtime.reports.undiagnosed(grown) is None
