"""One ask-suite question, measured: the suite's check, grounding, how many model steps
were valid first time, and whether the tool the question implies was used.

The model's steps are read back from the audit log of the question: a ``model_call``
record is a step that parsed and validated against the step schema; an ``error`` record
of stage ``model_call`` is one that did not (cut off or invalid, so the loop retried); a
tool call the model chose whose arguments the tool then rejected counts as invalid too.
"""

from __future__ import annotations

import json
from typing import Any

from agent.audit.records import AuditRecord
from agent.pipeline.answer import AgentAnswer
from agent.qualification.record import AskOutcome
from harness.evals.ask_suite import AskCase


def _model_action(record: AuditRecord) -> dict[str, Any] | None:
    output = record.payload.get("output")
    if not isinstance(output, str):
        return None
    try:
        data = json.loads(output)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def step_counts(records: list[AuditRecord]) -> tuple[int, int, list[str]]:
    """(valid first-time model steps, model steps, tools the model chose) in the records
    of one question."""
    valid = steps = 0
    chosen: list[str] = []
    awaiting: str | None = None  # the tool of the model's last call_tool step
    for record in records:
        if record.kind == "model_call":
            steps += 1
            valid += 1
            action = _model_action(record)
            awaiting = None
            if action is not None and action.get("action") == "call_tool":
                awaiting = str(action.get("tool"))
                chosen.append(awaiting)
        elif record.kind == "error" and record.payload.get("stage") == "model_call":
            steps += 1
        elif record.kind == "tool_result" and awaiting is not None and record.tool == awaiting:
            result = record.payload.get("result")
            if isinstance(result, dict) and result.get("error") == "invalid arguments":
                valid -= 1
            awaiting = None
    return valid, steps, chosen


def measure(case: AskCase, answer: AgentAnswer, records: list[AuditRecord],
            seconds: float) -> AskOutcome:
    """The outcome of ``case`` from its answer and the audit records of the question."""
    valid, steps, chosen = step_counts(records)
    problems = case.check(answer)
    # The model is measured, not the system around it: an answer the system had to
    # write (the model's draft could not be grounded) does not pass, and one where the
    # system replaced a sentence of the draft is not counted as the model's grounded one.
    rewritten = [r for r in answer.replaced if r.text]  # draft sentences, not additions
    if answer.outcome == "answered" and answer.written_by == "system" and rewritten:
        problems = [*problems, "the model's draft could not be grounded; the system wrote it"]
    model_grounded = answer.grounded and not rewritten
    tool_ok = (any(s.ok and s.tool in case.tools for s in answer.steps)
               if case.tools else None)
    return AskOutcome(
        id=case.id, question=case.question, passed=not problems, problems=problems,
        outcome=answer.outcome, grounded=model_grounded, valid_steps=valid,
        model_steps=steps, tool_ok=tool_ok, model_tools=chosen, seconds=round(seconds, 2),
        first_token_s=answer.timings.first_token_s,
        completion_tokens=answer.timings.completion_tokens,
        prompt_tokens_evaluated=answer.timings.prompt_tokens_evaluated,
        model_s=round(answer.timings.model_s, 3),
    )
