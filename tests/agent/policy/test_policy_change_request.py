"""The person's change request, read from their own words only (any of four languages),
and never from a question that only asks about a value."""

from __future__ import annotations

import pytest

from agent.pipeline.change_request import asks_for_change, change_request, other_part
from agent.pipeline.prefetch import plan

from .policy_helpers import make_catalog


@pytest.mark.parametrize(("question", "tag", "value", "language"), [
    ("Please set the T-101 level setpoint to 58 %", "T-101.LevelSetpoint", 58.0, "en"),
    ("Set LevelSetpoint on T-101 to 75.0.", "T-101.LevelSetpoint", 75.0, "en"),
    ("Stelle den Sollwert von T-101 Füllstand auf 57,5", "T-101.LevelSetpoint", 57.5, "de"),
    ("Bitte den T-101 Sollwert auf 60 setzen", "T-101.LevelSetpoint", 60.0, "de"),
    ("Réglez la consigne de niveau de T-101 à 60", "T-101.LevelSetpoint", 60.0, "fr"),
    ("Ajusta la consigna de nivel del T-101 a 60", "T-101.LevelSetpoint", 60.0, "es"),
    ("Set T-101.Level to 50.", "T-101.Level", 50.0, "en"),
])
def test_explicit_requests(question: str, tag: str, value: float, language: str) -> None:
    request = change_request(question, make_catalog())
    assert request is not None
    assert (request.tag, request.value, request.language) == (tag, value, language)


def test_requests_without_a_number_or_a_target_keep_what_was_said() -> None:
    cat = make_catalog()
    request = change_request("Set the T-101 level setpoint to max", cat)
    assert request is not None and request.value is None and request.value_words == "max"
    request = change_request("Set T-101 level setpoint to 50 or to 60", cat)
    assert request is not None and request.value is None and request.value_words == "50 or 60"
    request = change_request("set it to max", cat)
    assert request is not None and request.tag is None and request.candidates == ()


def test_questions_about_a_value_are_no_request() -> None:
    cat = make_catalog()
    for question in ("What is the T-101 level setpoint?",
                     "What should I set the T-101 setpoint to?",
                     "Quelle est la consigne de niveau de T-101 ?",
                     "What is the level of T-101?"):
        assert change_request(question, cat) is None, question
    assert not asks_for_change("What is the level of T-101?")
    assert asks_for_change("Raise the tank level setpoint")


def test_a_mixed_question_keeps_its_other_part() -> None:
    question = "Set the T-101 level setpoint to 60 and tell me the current level."
    request = change_request(question, make_catalog())
    assert request is not None and request.value == 60.0
    assert other_part(question, request) == "tell me the current level"
    only = change_request("Set the T-101 level setpoint to 60, please.", make_catalog())
    assert only is not None
    assert other_part("Set the T-101 level setpoint to 60, please.", only) is None


def test_the_prefetch_never_plans_a_proposal() -> None:
    calls = plan("Set the T-101 level setpoint to 58", make_catalog(),
                 {"read_tags", "propose_setpoint_change"})
    assert "propose_setpoint_change" not in [c.tool for c in calls]
