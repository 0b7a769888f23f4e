"""How `plantagent eval plants` judges a fault's triage reports."""

from __future__ import annotations

from datetime import UTC, datetime

from agent.triage.models import Candidate, Incident, TriageReport
from harness.evals.plants.suite import load_suite
from harness.evals.plants.triage import TriageResult, judge_fault
from plant.testplants import all_test_plants


def test_the_top_cause_shown_is_the_top_of_the_report_judged() -> None:
    """Two reports: the first ranks the fault first, a later one second behind another
    cause. The fault counts as ranked first, and the table's top cause is the first
    report's, not the later one's."""
    suite = load_suite("waterworks")
    case = next(c for c in suite.triage if not c.fault.startswith("instrument."))
    plant = all_test_plants()["waterworks"]
    equipment = suite.equipment[case.equipment].aliases[0]
    now = datetime.now(UTC)

    def report(*causes: str) -> TriageReport:
        return TriageReport(
            id=f"TR-{len(causes)}", created=now, status="diagnosed",
            incident=Incident(key="k", kind="alarm", equipment=[equipment], tags=[],
                              onset=now, summary="1 alarm(s)"),
            candidates=[Candidate(cause=c, equipment=equipment, confidence=0.9 - 0.1 * i)
                        for i, c in enumerate(causes)], evidence=[])

    out = TriageResult(case.fault, case.target, case.equipment)
    judged = judge_fault(out, case, [report(case.causes[0]),
                                      report("something_else", case.causes[0])],
                          suite, plant, {})
    assert judged and out.ranked_first and out.top_cause == case.causes[0]
