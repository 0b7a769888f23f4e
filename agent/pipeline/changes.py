"""The change path: a person's change request, decided by the policy and answered by the
system.

1. the target setpoint is read now (a normal gated, audited read: the value the answer
   states as current is this reading);
2. the policy engine decides, without side effects, from the person's own request;
3. only after an allowing decision, the one explicit proposal step creates a pending
   approval request (ApprovalService.propose_change); nothing is written;
4. the answer is built from the decision (change_text.py), never by the model.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from agent.errors import WriteRefused
from agent.pipeline.change_text import pending_answer, refusal_answer
from agent.pipeline.events import AgentEvent, EventCallback
from agent.pipeline.run import QuestionRun
from agent.pipeline.steps import parse_args
from agent.pipeline.tool_calls import call_tool
from agent.policy.decision import ChangeDecision, ChangeRequest, Refusal
from agent.policy.engine import PROPOSE_TOOL
from tools.opcua.models import Reading, TagInfo
from tools.opcua.toolset import Readings

#: The tool that reads the target's current value.
READ_TOOL = "read_tags"


@dataclass(frozen=True)
class ChangeAnswer:
    """The system's answer to a change request and the evidence it cites."""

    text: str
    decision: ChangeDecision
    citations: list[str]


async def _current(run: QuestionRun, target: TagInfo,
                   on_event: EventCallback) -> tuple[Reading | None, str | None]:
    registry = run.deps.registry
    if READ_TOOL not in registry:
        return None, None
    spec = registry.get(READ_TOOL)
    evidence = await call_tool(run, spec, parse_args(spec, {"tags": [target.name]}), on_event)
    if evidence is None:
        # Read already in this question: find that evidence.
        evidence = next((e for e in reversed(run.evidence.usable()) if e.tool == READ_TOOL
                         and _reading(e.result, target.name) is not None), None)
    if evidence is None or evidence.is_error:
        return None, None
    return _reading(evidence.result, target.name), evidence.id


def _reading(result: object, tag: str) -> Reading | None:
    if not isinstance(result, Readings):
        return None
    return next((r for r in result.readings if r.tag == tag), None)


async def answer_change(run: QuestionRun, request: ChangeRequest,
                        on_event: EventCallback) -> ChangeAnswer:
    """Decide the person's change request and answer it (proposing it when allowed)."""
    catalog = run.deps.catalog
    target = catalog.tags.get(request.tag) if request.tag else None
    reading: Reading | None = None
    citations: list[str] = []
    current: float | None = None
    if target is not None:
        on_event(AgentEvent("status", f"reading {target.name} before deciding the change..."))
        reading, evidence_id = await _current(run, target, on_event)
        if reading is not None and isinstance(reading.value, int | float) \
                and not isinstance(reading.value, bool):
            current = float(reading.value)
            citations.append(evidence_id or "")
    tags = [catalog.tag(n) for n in catalog.tag_names()]
    decision = run.limits.gate.decide_change(run.actor, run.role, request, target,
                                             current=current, catalog_tags=tags)
    await run.record("policy_decision", {"tool": PROPOSE_TOOL, **decision.audit_payload()},
                     tool=PROPOSE_TOOL, equipment=target.equipment if target else None)
    approvals = run.deps.approvals
    if decision.allowed and approvals is None:
        decision = ChangeDecision(
            False, "no approval workflow is configured on this site", "no-approvals",
            request, target, request.value, current,
            refusal=Refusal("no-approvals", "no approval workflow is configured on this site"))
    if decision.allowed and approvals is not None:
        try:
            pending = await asyncio.to_thread(
                approvals.propose_change, decision, actor=run.actor, role=run.role,
                reason=f"requested by {run.actor}: {run.question.strip()[:300]}",
                evidence_ids=[c for c in citations if c])
        except WriteRefused as exc:
            decision = ChangeDecision(
                False, exc.message, "write-proposal-refused", request, target, request.value,
                current, terms=decision.terms, refusal=Refusal("not-requested", exc.message))
        else:
            evidence = run.add_result(PROPOSE_TOOL, None, pending, ok=True)
            if evidence is not None:
                citations.append(evidence.id)
                on_event(AgentEvent("evidence", evidence.id))
            text = pending_answer(decision, pending, reading, now=run.now(),
                                  language=request.language)
            return ChangeAnswer(text, decision, [c for c in citations if c])
    text = refusal_answer(decision, reading if current is not None else None, role=run.role,
                          language=request.language)
    return ChangeAnswer(text, decision, [c for c in citations if c])
