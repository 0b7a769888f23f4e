"""Triage in a qualification, live: the demo plant's conveyor jam is diagnosed by the
deterministic triage while the model under test (scripted here) writes the reports; the
report ranking the jam first is read back from the run's store and judged."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.llm.scripted import ScriptedModel
from harness.qualify.triage_check import triage_outcome

#: Every report of the run asks the model once; enough copies for all of them.
COPIES = 40


@pytest.mark.parametrize(("text", "passes"), [
    ("Conveyor jam on CV-101: a process fault. Check the belt first.", True),
    ("Something is wrong somewhere in the plant.", False),
])
async def test_report_written_by_the_model_is_judged(
    tmp_path: Path, text: str, passes: bool
) -> None:
    model = ScriptedModel([{"summary": text}] * COPIES)
    outcome = await triage_outcome("conveyor_jam", model, tmp_path / "site", timeout_s=60.0)
    assert outcome.diagnosed and outcome.top_cause == "conveyor_jam"
    assert outcome.seconds_to_report is not None and outcome.seconds_to_report > 0
    assert model.pending < COPIES  # the model was asked
    # A summary that does not name the cause is refused by the writer's own consistency
    # check (the template text is stored instead) or fails the qualification's check.
    assert outcome.passed is passes
    if passes:
        assert outcome.writer == "model:scripted" and outcome.grounded
        assert outcome.names_top_cause
    else:
        assert not outcome.writer.startswith("model:") or not outcome.names_top_cause
