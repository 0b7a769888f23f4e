"""The ground truth of the test plants: every reference in a suite exists in its plant,
every suite covers every kind of question, and the answer-reading helpers read names,
numbers, units and trend words the way a person would."""

from __future__ import annotations

import pytest

from harness.evals.plants import text
from harness.evals.plants.suite import SUITES, load_suite
from plant.testplants import all_test_plants

KINDS = {"single", "multi", "compare", "limit", "history", "trend", "asset", "alarms",
         "unanswerable"}


@pytest.mark.parametrize("name", SUITES)
def test_suite_matches_its_plant(name: str) -> None:
    suite, plant = load_suite(name), all_test_plants()[name]
    keys = {t.key for t in plant.tags}
    assert set(suite.equipment) == {e.id for e in plant.equipment}
    assert len(suite.question) >= 12 and {q.kind for q in suite.question} == KINDS
    for q in suite.question:
        refs = [*q.read, *q.sensors, *q.identify, *(f.ref.split(":")[1] for f in q.facts)]
        if q.trend:
            refs.append(q.trend.split(":")[0])
        assert set(refs) <= keys, q.id
        if q.outcome == "answered" and q.kind not in ("asset", "alarms"):
            assert q.read, f"{q.id}: an answered question names what must be read"
    for s in suite.scenario:
        plant.fault(s.fault)
        assert s.alarm.rsplit(".", 1)[0] in keys
    faults = {c.fault for c in suite.triage}
    assert len(faults - {"instrument.drift", "instrument.stuck"}) >= 3
    assert faults & {"instrument.drift", "instrument.stuck"}
    for case in suite.triage:
        fault = plant.fault(case.fault)
        assert case.fault in case.causes
        assert case.target in (keys if fault.sensor else set(fault.targets))
        assert case.equipment == (plant.tag(case.target).equipment if fault.sensor
                                  else case.target)


def test_german_questions_for_the_german_plant() -> None:
    suite = load_suite("kuehlwasser")
    german = [q for q in suite.question if not q.id.endswith("-en")]
    assert len(german) >= 12 and len(suite.question) > len(german)


def test_names_match_across_separators_case_and_umlauts_on_word_boundaries() -> None:
    assert text.mentions("Bearing wear on p2001, check it", ["P-2001"])
    assert text.mentions("Die Kuehlwasserpumpe 1 läuft", ["Kühlwasserpumpe 1"])
    assert not text.mentions("raw water pump 12 is fine", ["raw water pump 1"])
    assert not text.mentions("CH-10 is off", ["CH-1"])


def test_numbers_in_either_decimal_convention() -> None:
    assert 47.3 in text.numbers_in("Lagertemperatur 47,3 °C")
    assert 4018.0 in text.numbers_in("duty 4,018 kW") and 1.5 in text.numbers_in("1.5 bar")
    assert text.states_number("the level is 70.2 % (limit 90)", 70.0, 70.5)
    assert not text.states_number("TT_2034 reads high", 2030, 2040)  # a tag number


def test_units_and_trend_words() -> None:
    assert text.states_unit("44.8 °C", "°C") and text.states_unit("44.8 degC", "°C")
    assert text.states_unit("186 m3/h", "m³/h") and not text.states_unit("186", "m³/h")
    assert text.states_unit("32.6 A", "A") and not text.states_unit("a pump", "A")
    assert text.says_direction("The pressure is rising.", "up")
    assert text.says_direction("Der Differenzdruck steigt.", "up")
    assert not text.says_direction("The pressure is rising.", "down")


def test_limit_wording_either_way() -> None:
    assert text.says_limit_state("580 mbar is above its high limit of 500 mbar", "outside")
    assert text.says_limit_state("Grenzwert 500 mbar überschritten", "outside")
    assert not text.says_limit_state("580 mbar, inside its normal range 0-500", "outside")
    assert text.says_limit_state("580 mbar, inside its normal range 0-500", "inside")
    assert not text.says_limit_state("it is not within its limits", "inside")


def test_history_is_told_from_a_current_reading() -> None:
    from datetime import UTC, datetime

    from agent.pipeline.answer import AgentAnswer, StepRecord
    from agent.pipeline.evidence import Refused
    from harness.evals.plants.check import history_nodes, read_nodes
    from tools.opcua.models import HistoryResult, HistorySummary, Reading
    from tools.opcua.toolset import Readings

    now = datetime.now(UTC)
    reading = Reading(tag="a", value=1.0, quality="good", status="Good", stale=False)
    summary = HistorySummary(tag="b", start=now, end=now, count=2, min=1.0, max=2.0)
    steps = [
        StepRecord(evidence_id="E1", tool="read_tags", args={}, ok=True,
                   result=Readings(readings=[reading])),
        StepRecord(evidence_id="E2", tool="tag_history", args={}, ok=True,
                   result=HistoryResult(summary=summary, points=[])),
        StepRecord(evidence_id=None, tool="tag_history", args={"tag": "c"}, ok=False,
                   result=Refused(refused="role may not", rule="role-tools:not-listed")),
    ]
    answer = AgentAnswer(question="q", answer="", outcome="answered", steps=steps,
                         grounded=True, model="m", model_sha256="0" * 64)
    nodes = {"a": "nsu=u;s=A", "b": "nsu=u;s=B", "c": "nsu=u;s=C"}
    assert read_nodes(answer, nodes) == {"nsu=u;s=A", "nsu=u;s=B"}
    assert history_nodes(answer, nodes) == {"nsu=u;s=B"}
