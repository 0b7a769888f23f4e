"""The question pipeline: the model proposes one typed step at a time, the system decides
and acts, the grounded writer checks the answer.

Per question: questions the system settles itself (names the plant does not have,
questions off the plant, and, after the prefetch, questions asking only for the values it
read: plain_reading.py) are answered without the model; a change request is decided by
the policy and answered by the system (changes.py); the obvious reads are prefetched;
then per step the model emits one step of the typed union (steps.py: a tool call with
catalog-enum arguments, a final answer citing evidence that exists, or "cannot answer");
the policy gate allows or refuses a tool call; the tool's typed result becomes evidence;
the final answer goes through the grounded writer (writer.py with answer_task.py).
Every part is audited, off the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agent.audit.sink import AuditSink
from agent.errors import ModelError, ModelOutputError, UsageError
from agent.llm.base import ChatMessage, ChatModel, PrefixWarming
from agent.pipeline import prefetch
from agent.pipeline.answer import AgentAnswer
from agent.pipeline.answer_task import AnswerTask, Draft
from agent.pipeline.change_request import change_request, other_part
from agent.pipeline.changes import ChangeAnswer, answer_change
from agent.pipeline.completion import final_answer
from agent.pipeline.events import AgentEvent, EventCallback, ignore
from agent.pipeline.evidence import compact_json
from agent.pipeline.grounding import PlantNames
from agent.pipeline.outcomes import budget_exhausted, cannot_answer, sync_timings, system_answer
from agent.pipeline.prefix import render_prefix
from agent.pipeline.run import QuestionLimits, QuestionRun, plant_names
from agent.pipeline.settled import asset_answer, not_in_plant, plain_reading, unknown_names
from agent.pipeline.steps import CannotAnswer, FinalAnswer, InvalidCall, Step, StepSpace, parse_args
from agent.pipeline.tool_calls import call_tool, invalid_call
from agent.pipeline.writer import GroundedWriter
from agent.policy.decision import PolicyGate
from tools.context import ToolContext
from tools.opcua.catalog import Catalog
from tools.registry import ToolRegistry

if TYPE_CHECKING:
    from agent.approvals.service import ApprovalService

__all__ = ["Agent", "AgentDeps"]

MAX_QUESTION_CHARS = 2000
#: The most tokens one step may take after retries of steps that were cut off.
MAX_STEP_TOKENS = 1024


@dataclass
class AgentDeps:
    """Everything one agent needs, built by the site runtime (agent.runtime)."""

    model: ChatModel
    registry: ToolRegistry
    tool_context: ToolContext
    policy: PolicyGate
    audit: AuditSink
    #: The approval workflow a change the policy allows is proposed to (None: no changes).
    approvals: ApprovalService | None = None
    plant_name: str = "the plant"
    max_steps: int = 8
    time_budget_s: float = 300.0
    tool_timeout_s: float = 30.0
    max_step_tokens: int = 400
    #: Questions asking only for values the prefetch read are answered by the system.
    plain_readings: bool = True
    #: Per-role limits from the policy engine; None uses ``policy`` and the fields above.
    limits_for_role: Callable[[str], QuestionLimits] | None = None
    _prefix_cache: dict[int, list[ChatMessage]] = field(default_factory=dict)
    _names_cache: dict[int, PlantNames] = field(default_factory=dict)

    @property
    def catalog(self) -> Catalog:
        """The plant catalog tools and schema enums come from."""
        if self.tool_context.catalog is None:
            raise UsageError("no plant catalog", fix="browse the OPC UA server first")
        return self.tool_context.catalog

    def names(self) -> PlantNames:
        """The catalog's names for the grounding check (cached per catalog)."""
        catalog = self.catalog
        key = hash((id(catalog), len(catalog)))
        if key not in self._names_cache:
            self._names_cache.clear()
            self._names_cache[key] = plant_names(self)
        return self._names_cache[key]


class Agent:
    """Answers questions from plant data with a small model and a strict system around it."""

    def __init__(self, deps: AgentDeps) -> None:
        self.deps = deps

    def prefix(self) -> list[ChatMessage]:
        """The fixed prompt prefix for the current tools and catalog (cached)."""
        catalog = self.deps.catalog
        key = hash((tuple(self.deps.registry.names()), tuple(catalog.tags), len(catalog)))
        if key not in self.deps._prefix_cache:
            self.deps._prefix_cache[key] = render_prefix(
                self.deps.registry, catalog, self.deps.plant_name
            )
        return self.deps._prefix_cache[key]

    async def ask(
        self, question: str, *, actor: str, role: str, on_event: EventCallback = ignore
    ) -> AgentAnswer:
        """Answer ``question`` for ``actor`` in ``role``; raises UsageError on bad input."""
        question = question.strip()
        if not question:
            raise UsageError("the question is empty", fix='ask something, e.g. "Is P-101 ok?"')
        if len(question) > MAX_QUESTION_CHARS:
            raise UsageError(
                f"the question is {len(question)} characters long",
                fix=f"shorten it to at most {MAX_QUESTION_CHARS} characters",
            )
        limits = (
            self.deps.limits_for_role(role)
            if self.deps.limits_for_role is not None
            else QuestionLimits(self.deps.policy, self.deps.max_steps, self.deps.time_budget_s)
        )
        run = QuestionRun(self.deps, question, actor, role, limits)
        await run.record("question", {"question": question})
        started = time.monotonic()
        answer = await self._answer(run, started, on_event)
        answer.timings.total_s = round(time.monotonic() - started, 3)
        await run.record("answer", {
            "answer": answer.answer, "outcome": answer.outcome, "citations": answer.citations,
            "grounded": answer.grounded, "written_by": answer.written_by,
            "unsupported": [u.model_dump() for u in answer.unsupported],
            "replaced": [r.model_dump() for r in answer.replaced], "notes": run.notes,
        })
        on_event(AgentEvent("answer", answer.answer))
        return answer

    async def _answer(self, run: QuestionRun, started: float,
                      on_event: EventCallback) -> AgentAnswer:
        settled = await unknown_names(run)
        if settled is not None:
            return settled
        settled = not_in_plant(run)
        if settled is not None:
            return settled
        settled = await asset_answer(run, on_event)
        if settled is not None:
            return settled
        change: ChangeAnswer | None = None
        request = change_request(run.question, self.deps.catalog)
        reads_for = run.question
        if request is not None:
            run.change = request
            change = await answer_change(run, request, on_event)
            rest = other_part(run.question, request)
            if rest is None:
                return system_answer(run, change.text, change.citations)
            # The reads are for the rest of the question, about what the request named.
            reads_for = f"{rest} ({' '.join(request.equipment)})"
        elif not prefetch.in_scope(run.question, self.deps.catalog):
            text = ("I cannot answer this from the plant data: the question is not about "
                    "the plant's equipment, tags, alarms or limits. Needed: a question about "
                    "the plant, or a tool that has this information.")
            return system_answer(run, text, [], outcome="cannot_answer")
        await self._prefetch(run, reads_for, on_event)
        if change is None and self.deps.plain_readings:
            settled = plain_reading(run)
            if settled is not None:
                return settled
        answer = await self._model_answer(run, started, on_event,
                                          drop_change_talk=change is not None)
        if change is None:
            return answer
        # A question that also asked for a change: the system's answer to the change
        # first, then the model's answer to the rest.
        answer.answer = f"{change.text}\n\n{answer.answer}".strip()
        answer.citations = list(dict.fromkeys([*change.citations, *answer.citations]))
        answer.written_by = "model+system"
        return answer

    async def _prefetch(self, run: QuestionRun, question: str, on_event: EventCallback) -> None:
        """Read what the question obviously needs before the model's first step."""
        registry = self.deps.registry
        for call in prefetch.plan(question, self.deps.catalog, set(registry.names())):
            spec = registry.get(call.tool)
            # The quantities the question names (the level, not also its setpoint): the
            # answer must state each; so must it each value a limit check finds outside.
            run.asked_tags += [t for t in call.asked if t not in run.asked_tags]
            run.asked_limits = run.asked_limits or call.tool == "check_limits"
            await call_tool(run, spec, parse_args(spec, call.args), on_event)

    async def _model_answer(self, run: QuestionRun, started: float, on_event: EventCallback,
                            *, drop_change_talk: bool) -> AgentAnswer:
        max_steps = run.limits.max_steps
        for index in range(max_steps):
            if time.monotonic() - started > run.limits.time_budget_s:
                break
            last = index == max_steps - 1
            on_event(AgentEvent("status", "thinking..." if index == 0 else "reading results..."))
            # After a repeated call the next step can only answer: a small model that
            # repeats itself once repeats itself again (seen four times in a row on a
            # trend question), each a model step the answer does not need.
            step = await self._model_step(run, allow_tools=not (last or run.repeated),
                                          on_event=on_event)
            if step is None:
                if run.stopped:
                    break
                continue
            if isinstance(step, InvalidCall):
                await invalid_call(run, step.tool, step.problems)
                continue
            if isinstance(step, CannotAnswer):
                return cannot_answer(run, step)
            if isinstance(step, FinalAnswer):
                return await self._write(run, step, drop_change_talk=drop_change_talk)
            spec = self.deps.registry.get(step.tool)
            await call_tool(run, spec, step.args, on_event)
        return budget_exhausted(run)

    async def _model_step(self, run: QuestionRun, *, allow_tools: bool,
                          on_event: EventCallback) -> Step | InvalidCall | None:
        catalog = self.deps.catalog
        space = StepSpace(
            self.deps.registry,
            {"tag": catalog.tag_names(), "equipment": catalog.equipment_names()},
            run.evidence.ids(), allow_tools=allow_tools,
            # With evidence in hand the answer says what it shows and what is missing;
            # a small model otherwise gives up on data it has.
            allow_cannot_answer=not run.evidence.ids(),
        )
        fingerprint = _fingerprint(run.history, space.schema, run.step_tokens)
        if fingerprint in run.failed_requests:
            # The same request failed before: a model asked the same gives the same.
            run.stopped = True
            return None

        def token(text: str) -> None:
            on_event(AgentEvent("token", text))

        try:
            result = await run.calls.step(self.prefix(), run.history, space.schema,
                                          max_tokens=run.step_tokens, on_token=token,
                                          purpose="step")
            step = space.parse(result.data)
        except ModelOutputError:
            # Constrained decoding only yields invalid JSON when it is cut off: the step
            # is tried again with room to finish, never unchanged. Nothing is added to
            # the history, since a small model copies any error text it sees.
            run.failed_requests.add(fingerprint)
            run.step_tokens = min(run.step_tokens * 2, MAX_STEP_TOKENS)
            sync_timings(run)
            return None
        sync_timings(run)
        run.history.append(ChatMessage("assistant", result.text))
        return step

    async def _write(self, run: QuestionRun, step: FinalAnswer, *,
                     drop_change_talk: bool) -> AgentAnswer:
        task = AnswerTask(run, prefix=self.prefix(), drop_change_talk=drop_change_talk)
        writer = GroundedWriter(run.calls)
        first = task.from_step(step)
        # The writer shows the model its own draft again before the feedback: the history
        # ends before the step that wrote it.
        history = run.history[:-1] if run.history and run.history[-1].role == "assistant" \
            else run.history
        try:
            written = await writer.write(task.task(run.step_tokens), self.prefix(), history,
                                         first=first)
        except ModelError:
            written = None
        sync_timings(run)
        draft: Draft = written.value if written is not None else task.fallback(first, None)
        outcome_by = written.outcome if written is not None else "mixed"
        run.notes = written.notes if written is not None else ["the redraft failed"]
        if written is not None and len(written.drafts) > 1:
            await run.record("answer", {"draft": task.render(written.drafts[0]),
                                        "grounded": False, "redraft": True})
        return final_answer(run, draft, outcome_by)

    async def warm(self) -> int:
        """Evaluate the prompt prefix ahead of the first question when the model can keep
        its state (agent.llm.base.PrefixWarming); the tokens evaluated (0: nothing to do).
        The service does this at start, so a person's first question starts warm."""
        model = self.deps.model
        if not isinstance(model, PrefixWarming):
            return 0
        prefix = self.prefix()
        return await asyncio.to_thread(model.warm, prefix)

def _fingerprint(history: list[ChatMessage], schema: dict[str, object], tokens: int) -> int:
    payload = compact_json([[m.role, m.content, m.name] for m in history]) + \
        compact_json(schema) + str(tokens)
    return int.from_bytes(hashlib.sha256(payload.encode("utf-8")).digest()[:8], "big")
