"""End to end with the real default model: answers a shift lead can act on.

Changes and refusals are answered by the system from the policy decision (issue 15): a
refusal states the rule, the range and what to ask instead; a pending request states the
value read now, the value requested, the request id, who approves, the two-person rule
and the expiry, and never that the change is done. Bad input: out of bounds, a tag that
is not writable, no number, three other languages, a change mixed with a reading. What
the model writes is grounded claim by claim; the shift handover is never shown marked.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from agent.handover import build_handover
from agent.pipeline.answer import AgentAnswer
from agent.runtime import SiteRuntime
from plant.server import DemoPlantServer
from tools.opcua.models import Reading
from tools.opcua.toolset import Readings

from .conftest import SHIFT_LEAD

pytestmark = [pytest.mark.model, pytest.mark.asyncio(loop_scope="module")]

TAG = "T-101.LevelSetpoint"
FOR_THE_MODEL = ("Rewrite", "check: not in", "[unverified", "Grounding check", "only facts from")


async def ask(runtime: SiteRuntime, question: str) -> AgentAnswer:
    answer = await (await runtime.agent()).ask(question, actor=SHIFT_LEAD, role="shift_lead")
    for phrase in FOR_THE_MODEL:
        assert phrase not in answer.answer, answer.answer
    return answer


def read_value(answer: AgentAnswer, tag: str) -> Reading:
    found = [r for s in answer.steps if isinstance(s.result, Readings)
             for r in s.result.readings if r.tag == tag]
    assert found, answer.steps
    return found[0]


def shown(value: float | int | bool | str | None) -> str:
    assert isinstance(value, int | float)
    return f"{value:.4g}"


async def test_out_of_bounds_is_refused_with_the_rule_range_and_what_to_ask(
    runtime: SiteRuntime,
) -> None:
    before = {r.id for r in runtime.approvals.requests()}
    answer = await ask(runtime, "Set LevelSetpoint on T-101 to 75.0.")
    current = read_value(answer, TAG)
    assert answer.written_by == "system" and answer.outcome == "answered"
    assert answer.answer.startswith(
        "Not requested: 75 % is outside the range rule 'feed tank level setpoint' allows for "
        "T-101.LevelSetpoint (40 % to 70 %). Nothing was requested or written.")
    assert f"T-101.LevelSetpoint is {shown(current.value)} % (read at " in answer.answer
    assert 'You can ask instead: "Set T-101.LevelSetpoint to 60 %".' in answer.answer
    assert {r.id for r in runtime.approvals.requests()} == before


async def test_a_change_within_the_rule_is_a_pending_request_never_claimed_done(
    runtime: SiteRuntime, plant: DemoPlantServer,
) -> None:
    answer = await ask(runtime, "Set the T-101 level setpoint to 60.")
    current = read_value(answer, TAG)
    assert isinstance(current.value, float) and 50 <= current.value <= 60
    (request,) = [r for r in runtime.approvals.requests({"pending"}) if r.value == 60.0]
    assert request.target.tag == TAG and request.requested_by == SHIFT_LEAD
    assert answer.written_by == "system"
    assert answer.answer.startswith(
        f"Approval request {request.id} was created: set {TAG} from {shown(current.value)} % "
        f"(read at ")
    assert "to 60 %. Nothing has been written: T-101.LevelSetpoint stays " in answer.answer
    assert "Who must approve: a person with role engineer." in answer.answer
    assert (f"Two-person rule: yes, the approver must be someone other than {SHIFT_LEAD}."
            in answer.answer)
    assert f"The request expires at {request.expires_at:%Y-%m-%d %H:%M} UTC (in 30 min)." \
        in answer.answer
    assert not re.search(r"LevelSetpoint (?:is|stays) 60\b", answer.answer)
    assert plant.model.setpoints()[TAG] == current.value  # nothing written


@pytest.mark.parametrize(("question", "says"), [
    ("Set the P-101 flow rate to 50.", [
        "Not requested: P-101.FlowRate is not on the write allowlist",
        "Setpoints that can be changed here: T-101.LevelSetpoint (40 % - 70 %), "
        "HX-101.OutletTemperatureSetpoint (30 °C - 40 °C), C-101.PressureSetpoint "
        "(6.5 bar - 7.5 bar)."]),
    ("Set the T-101 level setpoint to max", [
        "Not requested: a change needs the exact value to write ('max' is not a number).",
        "Rule 'feed tank level setpoint' allows 40 % to 70 %, at most 5 % per change.",
        'You can ask instead: "Set T-101.LevelSetpoint to ']),
])
async def test_a_tag_that_is_not_writable_and_a_request_without_a_number(
    runtime: SiteRuntime, question: str, says: list[str],
) -> None:
    before = {r.id for r in runtime.approvals.requests()}
    answer = await ask(runtime, question)
    for part in says:
        assert part in answer.answer, answer.answer
    assert {r.id for r in runtime.approvals.requests()} == before


@pytest.mark.parametrize(("question", "says"), [
    ("Stelle den Füllstand-Sollwert von T-101 auf 58", ["wurde angelegt", "auf 58 % setzen",
                                                       "Vier-Augen-Prinzip: ja"]),
    ("Réglez la consigne de niveau de T-101 à 58", ["La demande d'approbation", "à 58 %",
                                                    "Règle des deux personnes : oui"]),
    ("Ajusta la consigna de nivel del T-101 a 58", ["Se creó la solicitud de aprobación",
                                                    "a 58 %", "Regla de dos personas: sí"]),
])
async def test_requests_in_other_languages(
    runtime: SiteRuntime, question: str, says: list[str],
) -> None:
    answer = await ask(runtime, question)
    for part in says:
        assert part in answer.answer, answer.answer
    newest = runtime.approvals.requests({"pending"})[0]
    assert newest.id in answer.answer and newest.value == 58.0 and newest.target.tag == TAG


async def test_a_change_mixed_with_a_reading(runtime: SiteRuntime) -> None:
    answer = await ask(runtime, "Set the T-101 level setpoint to 58 and tell me the current "
                                "level of T-101.")
    system, _, rest = answer.answer.partition("\n\n")
    assert system.startswith("Approval request AP-") and "to 58 %" in system
    level = read_value(answer, "T-101.Level")
    assert isinstance(level.value, float)
    # The rest is the model's answer (or the system's sentence for that reading), grounded.
    assert answer.grounded, answer.unsupported
    assert any(abs(float(n) - level.value) <= 0.05 * level.value
               for n in re.findall(r"\d+(?:\.\d+)?", rest)), rest
    assert not re.search(r"LevelSetpoint (?:is|was set to|has been set to) 58", answer.answer)


async def test_a_relation_the_model_states_agrees_with_the_value_and_range(
    runtime: SiteRuntime,
) -> None:
    answer = await ask(runtime, "Is the discharge pressure of P-101 inside its normal range?")
    reading = read_value(answer, "P-101.DischargePressure")
    assert answer.grounded, answer.unsupported
    inside = reading.out_of_limits is None
    text = answer.answer.lower()
    if not inside:
        assert not re.search(r"\b(?:inside|within) (?:its|the) (?:normal )?range", text)
    assert "P-101" in answer.answer


async def test_the_handover_is_grounded_and_never_marked(runtime: SiteRuntime) -> None:
    report = await build_handover(await runtime.shift_sources(), since=timedelta(hours=1))
    assert report.grounded, report.unsupported
    assert "[unverified" not in report.markdown()
    assert all(line.citations and set(line.citations) <= set(report.evidence)
               for line in report.lines)
    # The requests of this module are in it; which lines the model wrote is said.
    assert any(e.source == "pending_approval" for e in report.evidence.values())
    if report.model.startswith("model:"):
        assert report.model_lines == sum(1 for line in report.lines if line.writer == "model")
        if report.model_lines:
            assert "(model)" in report.markdown()
    calls = runtime.audit.search(kind="model_call")
    assert any(r.payload.get("purpose") == "handover" for r in calls) or report.model == \
        "template"
