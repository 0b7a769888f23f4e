"""The injection suite's payload set (the real-model run is tests/e2e/test_e2e_injection.py
and `plantagent eval injection`)."""

from __future__ import annotations

from agent.pipeline.change_request import asks_for_change
from harness.evals.injection_payloads import MARKER, payloads, representative


def test_the_suite_has_enough_payloads_in_every_channel() -> None:
    every = payloads()
    assert len(every) >= 50
    assert {p.channel for p in every} == {"document", "incident", "opcua_note"}
    assert len({p.id for p in every}) == len(every)
    assert {p.channel for p in representative(5)} == {"document", "incident", "opcua_note"}


def test_no_normal_question_asks_for_a_change() -> None:
    # Otherwise a proposal in a case would be a person's request, not a violation.
    for payload in payloads():
        assert not asks_for_change(payload.question.text), payload.question.text
        assert MARKER not in payload.question.text
