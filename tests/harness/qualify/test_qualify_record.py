"""Qualification records: kept per model file, compared with the last qualified run,
written as JSON, Markdown and PNG charts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.errors import ConfigError
from agent.qualification.record import AskOutcome, QualificationRecord, TriageOutcome
from agent.qualification.store import QualificationStore
from harness.qualify.criteria import ask_metrics, deltas, triage_metrics
from harness.qualify.report import markdown, write_report

from .qualify_helpers import qualify_record

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_store_keeps_newest_record_per_model_file(tmp_path: Path) -> None:
    store = QualificationStore(tmp_path)
    store.save(qualify_record(answer_rate=0.5, qualified=False))
    store.save(qualify_record(answer_rate=0.9, started="2026-11-23T01:00:00+00:00"))
    newest = store.for_sha("a" * 64)
    assert newest is not None and newest.metrics["answer_rate"] == 0.9
    assert [r.metrics["answer_rate"] for r in store.history()] == [0.5, 0.9]
    assert store.for_sha("b" * 64) is None


def test_last_qualified_prefers_another_model_file(tmp_path: Path) -> None:
    store = QualificationStore(tmp_path)
    store.save(qualify_record("baseline", "b" * 64, started="2026-11-22T00:00:00+00:00"))
    store.save(qualify_record("candidate", "a" * 64))
    store.save(qualify_record("worse", "c" * 64, answer_rate=0.2, qualified=False))
    found = store.last_qualified(excluding="a" * 64)
    assert found is not None and found.model == "baseline"
    # Only its own passes exist: it compares with itself.
    alone = QualificationStore(tmp_path / "other")
    alone.save(qualify_record("candidate", "a" * 64))
    again = alone.last_qualified(excluding="a" * 64)
    assert again is not None and again.model == "candidate"


def test_a_malformed_record_names_the_fix(tmp_path: Path) -> None:
    store = QualificationStore(tmp_path)
    path = store.save(qualify_record())
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        store.for_sha("a" * 64)
    assert "plantagent models qualify" in (err.value.fix or "")


def test_bad_sha_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        QualificationStore(tmp_path).for_sha("../../etc/passwd")


def test_metrics_from_outcomes() -> None:
    asked = [
        AskOutcome(id="a", question="", passed=True, outcome="answered", grounded=True,
                   valid_steps=2, model_steps=2, tool_ok=True),
        AskOutcome(id="b", question="", passed=False, outcome="answered", grounded=False,
                   valid_steps=1, model_steps=2, tool_ok=False),
        AskOutcome(id="c", question="", passed=True, outcome="cannot_answer", grounded=True),
    ]
    m = ask_metrics(asked)
    assert m == {"answer_rate": 0.6667, "grounded_rate": 0.5, "step_validity": 0.75,
                 "tool_choice": 0.5}
    t = triage_metrics([TriageOutcome(fault="x", equipment="A", diagnosed=True, passed=True),
                        TriageOutcome(fault="y", equipment="B", diagnosed=False)])
    assert t == {"triage_report_rate": 1.0, "triage_diagnosed": 0.5}
    assert deltas({"a": 0.5, "b": 1.0}, {"a": 0.75}) == {"a": -0.25}


def test_report_files_show_verdict_deltas_and_charts(tmp_path: Path) -> None:
    record = qualify_record("worse", "c" * 64, answer_rate=0.25, qualified=False)
    record.compared_with = "baseline (2026-11-22T00:00:00+00:00)"
    record.deltas = {"answer_rate": -0.65}
    files = write_report(record, tmp_path / "out")
    names = sorted(p.name for p in files)
    assert names == ["qualification.json", "qualification.md", "rates.png", "speed.png"]
    text = (tmp_path / "out" / "qualification.md").read_text(encoding="utf-8")
    assert "worse — NOT qualified" in text
    assert "| answer_rate | 25% | >= 75% | NO | -65 pt |" in text
    assert "Compared with the last qualified run: baseline" in text
    loaded = QualificationRecord.model_validate(
        json.loads((tmp_path / "out" / "qualification.json").read_text(encoding="utf-8")))
    assert loaded == record
    for png in ("rates.png", "speed.png"):
        assert (tmp_path / "out" / png).read_bytes()[:8] == PNG_MAGIC



def test_step_timer_keeps_timings_and_delegates() -> None:
    from agent.llm.base import ChatMessage, StepTimings
    from agent.llm.scripted import ScriptedModel
    from harness.qualify.step_timer import StepTimer

    inner = ScriptedModel(['{"x": 1}'])
    timer = StepTimer(inner)
    schema = {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}
    result = timer.step([ChatMessage("system", "s")], [ChatMessage("user", "u")], schema)
    assert result.data == {"x": 1} and timer.info.name == "scripted"
    assert len(timer.timings) == 1 and timer.generation_rate() == 0.0  # no generation time
    timer.timings.append(StepTimings(generation_s=2.0, completion_tokens=50))
    assert timer.generation_rate() == 25.0 and timer.generation_rate(since=1) == 25.0
    timer.close()
    assert inner.closed


def test_subset_runs_say_so(tmp_path: Path) -> None:
    from harness.qualify.runner import default_plan

    quick = default_plan("m", tmp_path, threads=1, quick=True)
    assert (len(quick.cases), len(quick.payloads), len(quick.faults)) == (6, 6, 2)
    assert not quick.subset
    full = default_plan("m", tmp_path, threads=1, quick=False)
    assert (len(full.cases), len(full.payloads), len(full.faults)) == (12, 18, 9)
    cut = default_plan("m", tmp_path, threads=1, quick=False, questions=2, faults=0)
    assert cut.subset and [c.id for c in cut.cases] == ["p101-bearing", "fault-alarms"]
    assert cut.faults == [] and cut.total == 2 + 18
    record = qualify_record()
    record.subset, record.quick = True, False
    assert "(full subset run, 1 thread(s))" in markdown(record)
