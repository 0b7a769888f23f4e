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
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from agent.audit.sink import AuditSink
from agent.errors import ModelError, ModelOutputError, UsageError
from agent.llm.base import ChatMessage, ChatModel, PrefixWarming
from agent.pipeline import prefetch, semantic_match
from agent.pipeline.answer import AgentAnswer, ReplacedText, UnsupportedClaim
from agent.pipeline.answer_task import AnswerTask, Draft, echoes
from agent.pipeline.change_request import change_request, other_part
from agent.pipeline.changes import ChangeAnswer, answer_change
from agent.pipeline.events import AgentEvent, EventCallback, ignore
from agent.pipeline.evidence import CatalogLookup, compact_json
from agent.pipeline.grounding import (
    PlantNames,
    check_claims,
    facts_sentences,
    past_value_sentence,
)
from agent.pipeline.plain_reading import plain_reading_tags
from agent.pipeline.prefix import render_prefix
from agent.pipeline.run import QuestionLimits, QuestionRun, facts_of, model_view, plant_names
from agent.pipeline.steps import CannotAnswer, FinalAnswer, InvalidCall, Step, StepSpace, parse_args
from agent.pipeline.tool_calls import call_tool, invalid_call
from agent.pipeline.words import words_of
from agent.pipeline.writer import GroundedWriter
from agent.policy.decision import PolicyGate
from agent.twin.semantics.records import PlantSemantics
from tools.context import ToolContext
from tools.opcua.catalog import Catalog
from tools.opcua.toolset import EquipmentList
from tools.registry import ToolRegistry

if TYPE_CHECKING:
    from agent.approvals.service import ApprovalService

__all__ = ["Agent", "AgentDeps", "QuestionLimits", "model_view"]

MAX_QUESTION_CHARS = 2000
#: The most tokens one step may take after retries of steps that were cut off.
MAX_STEP_TOKENS = 1024
#: The most values a limit check found outside that the system adds to an answer.
MAX_ADDED = 8
_IDENT = re.compile(r"\b[A-Za-z]{1,4}-\d{1,5}\b")
Outcome = Literal["answered", "cannot_answer", "budget_exhausted"]


#: Words asking for a statistic over a period (EN/DE/FR/ES).
STATISTIC_WORDS = frozenset({
    "highest", "lowest", "maximum", "minimum", "max", "min", "average", "mean", "peak",
    "höchste", "höchsten", "niedrigste", "niedrigsten", "mittlere", "mittleren",
    "durchschnitt", "durchschnittliche", "maximal", "minimal", "moyenne", "maximale",
    "minimale", "promedio", "máximo", "mínimo", "media"})


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_]+", text)}


def _other_intent(question: str) -> bool:
    """The question asks about limits, alarms, manuals or past incidents."""
    words = words_of(question, prefetch.SYNONYMS)
    return bool(words & (prefetch.LIMIT_WORDS | prefetch.ALARM_WORDS
                         | prefetch.DOCUMENT_WORDS | prefetch.INCIDENT_WORDS))


def _unresolved_note(semantics: PlantSemantics) -> str:
    """What the system cannot tell about the plant's tags, and how a site fixes it."""
    unresolved = semantics.unresolved()
    if not unresolved:
        return ""
    shown = ", ".join(t.tag for t in unresolved[:8])
    more = f" and {len(unresolved) - 8} more" if len(unresolved) > 8 else ""
    return (f" I cannot tell what {len(unresolved)} of the plant's {len(semantics.tags)} "
            f"tags measure or which equipment they belong to ({shown}{more}): the server "
            "gives no description, unit or readable name for them. Name them in the site "
            "file assets.toml ([tag.\"NAME\"] quantity = ..., equipment = ...) and run "
            "`plantagent twin sync`; `plantagent twin semantics --unresolved` lists them.")


def _flat(name: str) -> str:
    """A name without case or separators: 'AHU-1' is the device 'AHU_1'."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


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
        settled = await self._unknown_names(run)
        if settled is not None:
            return settled
        settled = self._not_in_plant(run)
        if settled is not None:
            return settled
        settled = await self._asset_answer(run, on_event)
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
                return self._system_answer(run, change.text, change.citations)
            # The reads are for the rest of the question, about what the request named.
            reads_for = f"{rest} ({' '.join(request.equipment)})"
        elif not prefetch.in_scope(run.question, self.deps.catalog):
            text = ("I cannot answer this from the plant data: the question is not about "
                    "the plant's equipment, tags, alarms or limits. Needed: a question about "
                    "the plant, or a tool that has this information.")
            return self._system_answer(run, text, [], outcome="cannot_answer")
        await self._prefetch(run, reads_for, on_event)
        if change is None and self.deps.plain_readings:
            settled = self._plain_reading(run)
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

    async def _asset_answer(self, run: QuestionRun,
                            on_event: EventCallback) -> AgentAnswer | None:
        """'Which pumps do we have?', 'Which sensors does WT_1 have?': read from the asset
        model (the tag semantics) and answered by the system, never out of budget."""
        if "list_equipment" not in self.deps.registry.names() or _other_intent(run.question):
            return None
        semantics = semantic_match.semantics_of(self.deps.catalog)
        kind = semantic_match.asks_for_kind(run.question, semantics)
        sensors = semantic_match.asks_for_sensors(run.question, semantics)
        if kind is None and len(sensors) != 1:
            return None
        args = {"eq_class": kind} if kind else {"contains": sensors[0].name}
        spec = self.deps.registry.get("list_equipment")
        evidence = await call_tool(run, spec, parse_args(spec, args), on_event)
        if evidence is None or not isinstance(evidence.result, EquipmentList):
            return None
        listed = evidence.result.equipment
        if kind is not None:
            word = kind.replace("_", " ")
            if not listed:
                classes = sorted({e.eq_class for e in semantics.equipment.values()
                                  if e.eq_class})
                text = (f"This plant has no equipment of class {word}. Its equipment "
                        f"classes are: {', '.join(classes)}.")
            else:
                names = ", ".join(e.name for e in listed)
                text = f"This plant has {len(listed)} of class {word}: {names}."
        else:
            eq = listed[0] if listed else None
            if eq is None:
                return None
            text = (f"{eq.name} has {len(eq.tags)} tags: "
                    + "; ".join(t.replace(": ", " (", 1) + ")" for t in eq.tags) + ".")
        return self._system_answer(run, text, [evidence.id])

    def _not_in_plant(self, run: QuestionRun) -> AgentAnswer | None:
        """Equipment asked for by class and number that the plant does not have ('pump
        3'), or a quantity no tag measures ('turbidity'): the system says so, and what
        there is instead, so the model cannot answer with another tag's value."""
        semantics = semantic_match.semantics_of(self.deps.catalog)
        if semantic_match.asks_for_kind(run.question, semantics):
            return None
        mapping = semantic_match.map_question(run.question, semantics)
        if mapping.tags:
            return None
        if _other_intent(run.question):
            # Limits, alarms, manuals or incidents: the reads for those still answer it.
            mapping.unmatched_quantities = []
        if mapping.missing_equipment:
            missing = ", ".join(mapping.missing_equipment)
            classes = {c for c in semantic_match.read_clause(run.question).classes}
            same = [e.name for e in semantics.equipment.values() if e.eq_class in classes]
            text = (f"There is no {missing} in this plant, so there are no readings for it."
                    + (f" The plant has: {', '.join(same)}." if same else ""))
            return self._system_answer(run, text, [], outcome="cannot_answer")
        if mapping.unmatched_quantities:
            what = " or ".join(mapping.unmatched_quantities)
            if mapping.equipment:
                where = ", ".join(e.name for e in mapping.equipment)
                measured = sorted({t.role for e in mapping.equipment
                                   for t in semantics.tags_of(e.name)})
                text = (f"No tag of {where} measures {what}, so I cannot tell its value. "
                        f"Its tags measure: {', '.join(measured)}.")
            else:
                text = (f"This plant has no tag that measures {what}, so I cannot tell its "
                        "value.")
            return self._system_answer(run, text + _unresolved_note(semantics), [],
                                       outcome="cannot_answer")
        return None

    async def _unknown_names(self, run: QuestionRun) -> AgentAnswer | None:
        """Equipment the plant does not have: the system says so, so the model cannot
        invent readings for it."""
        catalog = self.deps.catalog
        semantics = semantic_match.semantics_of(catalog)
        known = {_flat(n) for n in catalog.equipment_names()}
        known |= {_flat(t) for t in catalog.tag_names()}
        known |= {_flat(e) for e in semantics.equipment}
        unknown = sorted(
            {m.group() for m in _IDENT.finditer(run.question) if _flat(m.group()) not in known}
        )
        if not unknown:
            return None
        result = CatalogLookup(
            unknown_names=unknown, known_equipment=catalog.equipment_names(),
            note="these names are not in the plant catalog; no readings exist for them")
        await run.record("tool_call", {"tool": "catalog_lookup", "args": {"names": unknown}},
                         tool="catalog_lookup")
        evidence = run.add_result("catalog_lookup", None, result, ok=True)
        await run.record("tool_result", {"tool": "catalog_lookup", "ok": True,
                                         "result": result.model_dump(mode="json"),
                                         "evidence_id": evidence.id if evidence else None},
                         tool="catalog_lookup")
        if prefetch.mentioned_equipment(run.question, catalog):
            return None
        names = ", ".join(unknown)
        text = (f"{names} {'is' if len(unknown) == 1 else 'are'} not in the plant "
                f"catalog, so there are no readings for {names}. Known equipment: "
                f"{', '.join(catalog.equipment_names())}.")
        return self._system_answer(run, text, [evidence.id] if evidence else [],
                                   outcome="cannot_answer")

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
                return self._cannot_answer(run, step)
            if isinstance(step, FinalAnswer):
                return await self._write(run, step, drop_change_talk=drop_change_talk)
            spec = self.deps.registry.get(step.tool)
            await call_tool(run, spec, step.args, on_event)
        return self._budget_exhausted(run)

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
            self._sync_timings(run)
            return None
        self._sync_timings(run)
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
        self._sync_timings(run)
        draft: Draft = written.value if written is not None else task.fallback(first, None)
        outcome_by = written.outcome if written is not None else "mixed"
        run.notes = written.notes if written is not None else ["the redraft failed"]
        if written is not None and len(written.drafts) > 1:
            await run.record("answer", {"draft": task.render(written.drafts[0]),
                                        "grounded": False, "redraft": True})
        return self._final(run, draft, outcome_by)

    def _final(self, run: QuestionRun, draft: Draft, how: str) -> AgentAnswer:
        draft = self._complete(run, draft)
        citations = [c for c in draft.citations if run.evidence.get(c)]
        report = check_claims(draft.text, facts_of(
            [e for e in run.evidence.usable() if e.id in citations]), run.names())
        if draft.system_sentences and not draft.model_sentences:
            by: Literal["model", "system", "model+system"] = "system"
        elif draft.system_sentences or how == "mixed":
            by = "model+system"
        else:
            by = "model"
        return self._make(run, draft.text, citations, outcome="answered",
                          grounded=report.grounded,
                          unsupported=[UnsupportedClaim(kind=c.kind, text=c.text,
                                                        reason=c.reason)
                                       for c in report.unsupported],
                          written_by=by, replaced=list(draft.replaced))

    @staticmethod
    def _complete(run: QuestionRun, draft: Draft) -> Draft:
        """The draft with the system's sentence for each quantity the question named and
        the draft left out (a small model answers half of "the level of T-101 and its
        operator note"): the person gets every value asked for, from its reading."""
        everything = facts_of(run.evidence.usable())
        asked = list(run.asked_tags)
        ago = prefetch.ago_minutes(run.question)
        if ago is not None and asked:
            # "20 minutes ago": the value at that moment, from the history samples.
            labels = run.names().labels()
            past = [p for t in dict.fromkeys(asked) if (p := past_value_sentence(
                everything, t, run.now() - timedelta(minutes=ago), labels.get(t)))]
            past = [(t, src) for t, src in past if t not in draft.text]
            if past:
                draft = Draft(" ".join([draft.text, *(t for t, _ in past)]).strip(),
                              tuple(dict.fromkeys([*draft.citations, *(x for _, x in past)])),
                              draft.replaced, draft.model_sentences,
                              draft.system_sentences + len(past))
        if run.asked_limits:
            asked += [t for scope in everything.scopes for t in scope.outside][:MAX_ADDED]
        if not asked:
            return draft
        cited = facts_of([e for e in run.evidence.usable() if e.id in draft.citations])
        # "The highest ... over the last hour": a statistic is asked, not the reading.
        statistic = bool(_words(run.question) & STATISTIC_WORDS) \
            and bool(everything.of_kind("stat"))
        # A small model's "average" is often one sample: for a statistic the system's
        # own line is always given.
        stated = set() if statistic else {
            t for c in check_claims(draft.text, cited, run.names()).claims
            if c.supported and c.kind in ("value", "history") for t in c.tags}
        missing = [t for t in dict.fromkeys(asked) if t not in stated]
        if not missing:
            return draft
        lines = [(text, source) for text, source in facts_sentences(everything, missing,
                                                                  run.names().labels())
                 if text not in draft.text]
        # Readings, not statistics (unless a statistic was asked).
        readings = [(t, s) for t, s in lines if "over the cited window" in t] if statistic \
            else [(t, s) for t, s in lines if " is " in t]
        if not readings:
            return draft
        added = [ReplacedText(text="", reasons=["the question asked for it; the draft did "
                                                "not state it"], by=t) for t, _ in readings]
        return Draft(" ".join([draft.text, *(t for t, _ in readings)]).strip(),
                     tuple(dict.fromkeys([*draft.citations, *(s for _, s in readings)])),
                     (*draft.replaced, *added), draft.model_sentences,
                     draft.system_sentences + len(readings))

    async def warm(self) -> int:
        """Evaluate the prompt prefix ahead of the first question when the model can keep
        its state (agent.llm.base.PrefixWarming); the tokens evaluated (0: nothing to do).
        The service does this at start, so a person's first question starts warm."""
        model = self.deps.model
        if not isinstance(model, PrefixWarming):
            return 0
        prefix = self.prefix()
        return await asyncio.to_thread(model.warm, prefix)

    def _plain_reading(self, run: QuestionRun) -> AgentAnswer | None:
        """The values asked for, in the system's own sentences, when the question asks
        for nothing more (plain_reading.py); None when the model must answer."""
        tags = plain_reading_tags(run.question, run.asked_tags, run.evidence.items)
        if tags is None:
            return None
        lines = facts_sentences(facts_of(run.evidence.usable()), tags, run.names().labels())
        if len(lines) < len(tags):
            return None
        return self._system_answer(run, " ".join(t for t, _ in lines),
                                   [s for _, s in lines])

    def _cannot_answer(self, run: QuestionRun, step: CannotAnswer) -> AgentAnswer:
        reason = step.reason.strip()
        needed = step.needed.strip()
        if echoes(reason, []) or echoes(needed, []):
            reason, needed = "the evidence does not answer it.", "more plant data."
        text = f"I cannot answer this from the plant data: {reason} Needed: {needed}"
        return self._make(run, text, [], outcome="cannot_answer", grounded=True,
                          written_by="model")

    def _system_answer(self, run: QuestionRun, text: str, citations: list[str], *,
                       outcome: Outcome = "answered") -> AgentAnswer:
        return self._make(run, text, citations, outcome=outcome, grounded=True,
                          written_by="system")

    def _budget_exhausted(self, run: QuestionRun) -> AgentAnswer:
        everything = facts_of(run.evidence.usable())
        asked = list(dict.fromkeys(run.asked_tags))
        read = {f.tag for f in everything.of_kind("reading")}
        if asked and all(t in read for t in asked):
            # Every value the question asked for is in hand: the person gets them from
            # the system's own sentences, whatever the model did with its budget.
            lines = facts_sentences(everything, asked, run.names().labels())
            text = " ".join(t for t, _ in lines) + (
                " (The model did not finish an explanation within the step or time budget;"
                " these values are the system's readings.)")
            return self._make(run, text,
                              list(dict.fromkeys(s for _, s in lines)), outcome="answered",
                              grounded=True, written_by="system")
        gathered = ", ".join(run.evidence.ids()) or "nothing"
        lines = facts_sentences(facts_of(run.evidence.usable()), None,
                                run.names().labels())[:4]
        text = (f"I could not finish within the step or time budget. Evidence gathered: "
                f"{gathered}.")
        if lines:
            text += " What it shows: " + " ".join(t for t, _ in lines)
        citations = list(dict.fromkeys(s for _, s in lines))
        return self._make(run, text, citations, outcome="budget_exhausted", grounded=True,
                          written_by="system")

    def _make(self, run: QuestionRun, text: str, citations: list[str], *, outcome: Outcome,
              grounded: bool, written_by: Literal["model", "system", "model+system"],
              unsupported: list[UnsupportedClaim] | None = None,
              replaced: list[ReplacedText] | None = None) -> AgentAnswer:
        self._sync_timings(run)
        return AgentAnswer(
            question=run.question, answer=text, outcome=outcome,
            citations=[c for c in dict.fromkeys(citations) if run.evidence.get(c)],
            steps=run.steps, grounded=grounded, unsupported=unsupported or [],
            written_by=written_by, replaced=replaced or [],
            model=self.deps.model.info.name, model_sha256=self.deps.model.info.sha256,
            timings=run.timings,
        )

    @staticmethod
    def _sync_timings(run: QuestionRun) -> None:
        stats = run.calls.stats
        run.timings.model_s = round(stats.model_s, 3)
        run.timings.model_steps = stats.calls
        run.timings.prompt_tokens_evaluated = stats.prompt_tokens_evaluated
        run.timings.completion_tokens = stats.completion_tokens
        run.timings.first_token_s = stats.first_token_s


def _fingerprint(history: list[ChatMessage], schema: dict[str, object], tokens: int) -> int:
    payload = compact_json([[m.role, m.content, m.name] for m in history]) + \
        compact_json(schema) + str(tokens)
    return int.from_bytes(hashlib.sha256(payload.encode("utf-8")).digest()[:8], "big")
