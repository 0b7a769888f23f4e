"""The model-written triage summary: salvage of a cut-off text, citations attached by the
system, and the consistency checks that send a contradicting summary back to the template.
"""

from __future__ import annotations

from datetime import UTC, datetime

from agent.audit.sink import MemoryAuditSink
from agent.errors import ModelOutputError
from agent.llm.scripted import ScriptedModel
from agent.triage.models import Candidate, Evidence, Incident, TriageReport
from agent.triage.summary_checks import consistency_problems
from agent.triage.writer import ModelWriter, findings_json, headline, salvage_summary

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
EQUIPMENT = ["P-101", "HX-101"]
TAGS = ["P-101.Vibration", "P-101.BearingTemperature", "HX-101.HotOutletTemperature"]


def _report(*, process_fault: bool = True, status: str = "diagnosed") -> TriageReport:
    cause = ("bearing_wear", "P-101", None) if process_fault else (
        "stuck_sensor", "HX-101", "HX-101.HotOutletTemperature")
    return TriageReport(
        id="TR-1", created=NOW, status=status,
        incident=Incident(key="k", kind="alarm", equipment=[cause[1]], tags=[], onset=NOW,
                          summary=f"1 alarm(s) on {cause[1]}"),
        candidates=[Candidate(cause=cause[0], equipment=cause[1], tag=cause[2],
                              process_fault=process_fault, confidence=0.9,
                              evidence_for=["T1", "T2"])],
        evidence=[
            Evidence(id="T1", kind="history", text="P-101.Vibration up from 1.6 mm/s to 2.8 "
                     "mm/s", data={"tag": "P-101.Vibration", "last": 2.8, "baseline": 1.6,
                                   "direction": "up"}),
            Evidence(id="T2", kind="history", text="P-101.BearingTemperature up from 47.3 °C "
                     "to 51.2 °C", data={"tag": "P-101.BearingTemperature", "last": 51.2,
                                         "direction": "up"}),
        ],
    )


def _writer(*steps: object) -> ModelWriter:
    return ModelWriter(ScriptedModel(list(steps)), tag_names=TAGS,  # type: ignore[arg-type]
                       equipment_names=EQUIPMENT)


def test_findings_carry_the_headline_and_only_the_top_cause_evidence() -> None:
    report = _report()
    findings = findings_json(report)
    assert headline(report) == "Bearing wear on P-101: a process fault."
    assert '"headline":"Bearing wear on P-101: a process fault."' in findings
    assert '"id":"T1"' in findings and '"id":"T2"' in findings
    instrument = headline(_report(process_fault=False))
    assert "instrument fault, not a process fault" in instrument


def test_a_cut_off_summary_keeps_its_whole_sentences() -> None:
    assert salvage_summary('{"summary": "Bearing wear on P-101 [T1]. Vibration rose to 2.8 mm/s'
                           ' [T1]. Next, che') == (
        "Bearing wear on P-101 [T1]. Vibration rose to 2.8 mm/s [T1].")
    assert salvage_summary('{"summary": "not one sentence') is None
    assert salvage_summary('{"summary": "A \\"quoted\\" word. B') == 'A "quoted" word.'
    assert salvage_summary("no json at all") is None


async def test_the_model_summary_is_kept_with_citations_attached() -> None:
    text = ("Bearing wear on P-101: a process fault. Vibration rose to 2.8 mm/s and the "
            "bearing temperature to 51.2 °C. First, plan a bearing inspection.")
    written = await _writer({"summary": text}).write(_report())
    assert written.writer == "model:scripted" and written.grounded
    assert "2.8 mm/s and the bearing temperature to 51.2 °C [T1][T2]." in written.text


async def test_a_cut_off_model_summary_is_salvaged_and_grounding_checked() -> None:
    cut = ModelOutputError("cut off", text='{"summary": "Bearing wear on P-101: a process '
                           'fault. Vibration reached 2.8 mm/s [T1]. Then the')
    written = await _writer(cut).write(_report())
    assert written.writer == "model:scripted (cut to whole sentences)"
    assert written.grounded and "Then the" not in written.text
    assert written.text == ("Bearing wear on P-101: a process fault [T1]. Vibration reached "
                            "2.8 mm/s [T1].")


async def test_a_change_from_the_baseline_is_grounded_and_a_wrong_one_is_not() -> None:
    # A bigger model writes the change against the baseline (2.8 - 1.6 = 1.2), signed or
    # as "rose by"; a change the evidence does not give is refused like any number.
    for text in ("Bearing wear on P-101: a process fault. P-101.Vibration is +1.2 mm/s "
                 "against its baseline [T1].",
                 "Bearing wear on P-101: a process fault. Vibration rose by 1.2 mm/s [T1]."):
        written = await _writer({"summary": text}).write(_report())
        assert written.writer == "model:scripted" and written.grounded, written.writer
    wrong = {"summary": "Bearing wear on P-101: a process fault. Vibration rose by 1.9 mm/s "
                        "[T1]."}
    written = await _writer(wrong, wrong).write(_report())
    assert written.writer.startswith("template (model summary 1.9"), written.writer


async def test_an_invented_number_goes_back_once_then_the_template_is_used() -> None:
    invented = {"summary": "Bearing wear on P-101: a process fault. Vibration reached 9.9 mm/s "
                           "[T1]."}
    model = ScriptedModel([invented, invented])
    audit = MemoryAuditSink()
    written = await ModelWriter(model, tag_names=TAGS, equipment_names=EQUIPMENT).write(
        _report(), audit=audit)
    # Never shown marked: the redraft repeated the invention, so the template writes it.
    assert written.writer.startswith("template (model summary 9.9")
    assert "[unverified" not in written.text and "9.9" not in written.text
    assert "bearing_wear" in written.text
    redraft = model.requests[1].history[-1]
    assert "9.9" in redraft.content and "Write it again" in redraft.content
    # Both model calls are in the audit log.
    calls = [r.payload for r in audit.records if r.kind == "model_call"]
    assert [c["purpose"] for c in calls] == ["draft", "redraft"]
    assert calls[0]["model"] == "scripted" and calls[0]["output"]


async def test_a_summary_that_contradicts_the_diagnosis_goes_back_to_the_template() -> None:
    wrong = {"summary": "HX-101.HotOutletTemperature is a process fault. Restore cooling."}
    written = await _writer(wrong).write(_report(process_fault=False))
    assert written.writer.startswith("template (model summary")
    assert "calls an instrument fault a process fault" in written.writer
    assert "stuck_sensor" in written.text and "instrument fault" in written.text


def test_consistency_problems_name_what_is_wrong() -> None:
    report = _report()
    assert consistency_problems("Bearing wear on P-101: a process fault [T1].", report) == []
    assert "does not name P-101" in consistency_problems("Bearing wear somewhere.", report)
    assert any("work was done" in p for p in consistency_problems(
        "Bearing wear on P-101. The bearing was replaced.", report))
    assert any("sensor fault" in p for p in consistency_problems(
        "Bearing wear on P-101, a sensor fault.", report))
    assert consistency_problems("Bearing wear on P-101, not a sensor fault.", report) == []
    thin = _report(status="insufficient_evidence")
    assert consistency_problems("Insufficient evidence on P-101.", thin) == []
    assert consistency_problems("Bearing wear on P-101.", thin) == [
        "does not say the evidence is insufficient"]
