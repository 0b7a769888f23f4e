"""The agent loop: the model proposes one action at a time, the system decides and acts.

Per step: the model emits one JSON action constrained by the step schema (a tool call
with catalog-enum arguments, a final answer citing evidence ids, or "cannot answer");
the policy gate allows or refuses a tool call; the tool runs with a timeout; its result
becomes evidence with an id; every part is audited. A final answer is grounding-checked
against the evidence it cites before anyone sees it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from agent.audit.sink import AuditSink
from agent.errors import ModelOutputError, ToolError, UsageError
from agent.llm.base import ChatMessage, ChatModel, StepResult, astep
from agent.loop import prefetch
from agent.loop.answer import AgentAnswer, StepRecord, Timings, UnsupportedClaim
from agent.loop.change_request import PROPOSE_TOOL, asks_for_change
from agent.loop.events import AgentEvent, EventCallback, ignore
from agent.loop.evidence import Evidence, EvidenceLog, compact_json
from agent.loop.grounding import check_grounding
from agent.loop.prefix import render_prefix
from agent.loop.step_schema import step_schema
from agent.policy.decision import Decision, PolicyGate
from agent.policy.quoting import neutralize_values
from tools.context import ToolContext
from tools.opcua.catalog import Catalog
from tools.registry import ToolRegistry, ToolSpec

MAX_QUESTION_CHARS = 2000
#: The most tokens one step may take after retries of steps that were cut off.
MAX_STEP_TOKENS = 1024
#: Opening words of the grounding feedback, to notice an answer that merely repeats it.
REDRAFT_PREFIX = "check: not in"
#: Tool results longer than this are cut for the model; the full result stays evidence.
MAX_RESULT_CHARS = 1800
_IDENT = re.compile(r"\b[A-Za-z]{1,4}-\d{1,5}\b")


@dataclass(frozen=True)
class QuestionLimits:
    """The gate and budget of one question, as the policy gives them for a role."""

    gate: PolicyGate
    max_steps: int
    time_budget_s: float


@dataclass
class AgentDeps:
    """Everything one agent needs, built by the site runtime (agent.runtime)."""

    model: ChatModel
    registry: ToolRegistry
    tool_context: ToolContext
    policy: PolicyGate
    audit: AuditSink
    plant_name: str = "the plant"
    max_steps: int = 8
    time_budget_s: float = 300.0
    tool_timeout_s: float = 30.0
    max_step_tokens: int = 400
    #: Per-role limits from the policy engine; None uses ``policy`` and the fields above.
    limits_for_role: Callable[[str], QuestionLimits] | None = None
    _prefix_cache: dict[int, list[ChatMessage]] = field(default_factory=dict)

    @property
    def catalog(self) -> Catalog:
        """The plant catalog tools and schema enums come from."""
        if self.tool_context.catalog is None:
            raise UsageError("no plant catalog", fix="browse the OPC UA server first")
        return self.tool_context.catalog


class _Run:
    """The state of one question."""

    def __init__(
        self, deps: AgentDeps, question: str, actor: str, role: str, limits: QuestionLimits
    ) -> None:
        self.deps = deps
        self.limits = limits
        self.question = question
        self.actor = actor
        self.role = role
        self.evidence = EvidenceLog()
        self.steps: list[StepRecord] = []
        self.history: list[ChatMessage] = [ChatMessage("user", question, pinned=True)]
        self.timings = Timings()
        self.calls_seen: dict[str, str] = {}
        self.redrafted = False
        self.first_draft: AgentAnswer | None = None
        self.step_tokens = deps.max_step_tokens

    def audit(self, kind: str, payload: dict[str, Any], **extra: Any) -> None:
        self.deps.audit.append(kind, self.actor, payload, role=self.role, **extra)

    def add_result(
        self, tool: str, args: dict[str, Any], data: Any, *, ok: bool, cite: bool = True
    ) -> Evidence | None:
        evidence = self.evidence.add(tool, args, data, is_error=not ok) if cite else None
        label = evidence.id if evidence else "refused"
        # The model sees a compact view with strings defused (OPC UA strings, messages and
        # documents are data, never instructions); the evidence keeps the raw result.
        text = compact_json(neutralize_values(model_view(data)))
        if len(text) > MAX_RESULT_CHARS:
            text = text[:MAX_RESULT_CHARS] + "...(cut; ask for fewer items)"
        status = "" if ok else " error"
        self.history.append(ChatMessage("tool", f"{label} {tool}{status}: {text}", name=tool))
        self.steps.append(
            StepRecord(
                evidence_id=evidence.id if evidence and ok else None,
                tool=tool,
                args=args,
                result=data,
                ok=ok,
            )
        )
        return evidence


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
        run = _Run(self.deps, question, actor, role, limits)
        run.audit("question", {"question": question})
        started = time.monotonic()
        outcome: AgentAnswer | None
        outcome = self._settled_without_model(run)
        if outcome is None:
            await self._prefetch(run, on_event)
        max_steps = limits.max_steps
        for index in range(max_steps if outcome is None else 0):
            elapsed = time.monotonic() - started
            if elapsed > limits.time_budget_s:
                break
            last = index == max_steps - 1
            on_event(AgentEvent("status", "thinking..." if index == 0 else "reading results..."))
            action = await self._model_step(run, allow_tools=not last, on_event=on_event)
            if action is None:
                continue
            kind = action.get("action")
            if kind == "call_tool":
                await self._call_tool(run, action, on_event)
                continue
            outcome = self._finish(run, action)
            if run.first_draft is not None and REDRAFT_PREFIX in outcome.answer:
                outcome = run.first_draft  # the redraft only echoed the feedback
            if self._redraft(run, outcome, steps_left=max_steps - index - 1):
                outcome = None
                continue
            break
        if outcome is None:
            outcome = self._budget_exhausted(run)
        outcome.timings.total_s = round(time.monotonic() - started, 3)
        run.audit(
            "answer",
            {
                "answer": outcome.answer,
                "outcome": outcome.outcome,
                "citations": outcome.citations,
                "grounded": outcome.grounded,
                "unsupported": [u.model_dump() for u in outcome.unsupported],
            },
        )
        on_event(AgentEvent("answer", outcome.answer))
        return outcome

    def _settled_without_model(self, run: _Run) -> AgentAnswer | None:
        """Questions the system answers itself, so the model cannot invent readings:
        one about equipment the plant does not have, or one no tool can touch."""
        catalog = self.deps.catalog
        known = {n.lower() for n in catalog.equipment_names()}
        known |= {t.lower() for t in catalog.tag_names()}
        unknown = sorted(
            {m.group() for m in _IDENT.finditer(run.question) if m.group().lower() not in known}
        )
        if unknown:
            data = {
                "unknown_names": unknown,
                "known_equipment": catalog.equipment_names(),
                "note": "these names are not in the plant catalog; no readings exist for them",
            }
            run.audit("tool_call", {"tool": "catalog_lookup", "args": {"names": unknown}},
                      tool="catalog_lookup")
            evidence = run.add_result("catalog_lookup", {"names": unknown}, data, ok=True)
            run.audit("tool_result", {"tool": "catalog_lookup", "ok": True, "result": data,
                                      "evidence_id": evidence.id if evidence else None},
                      tool="catalog_lookup")
            if not prefetch.mentioned_equipment(run.question, catalog):
                names = ", ".join(unknown)
                text = (f"{names} {'is' if len(unknown) == 1 else 'are'} not in the plant "
                        f"catalog, so there are no readings for {names}. Known equipment: "
                        f"{', '.join(catalog.equipment_names())}.")
                cited = [evidence.id] if evidence else []
                return self._answer(run, text, cited, outcome="cannot_answer")
            return None
        if not prefetch.in_scope(run.question, catalog):
            text = ("I cannot answer this from the plant data: the question is not about "
                    "the plant's equipment, tags, alarms or limits. Needed: a question about "
                    "the plant, or a tool that has this information.")
            return self._answer(run, text, [], outcome="cannot_answer", check=False)
        return None

    async def _prefetch(self, run: _Run, on_event: EventCallback) -> None:
        """Read what the question obviously needs before the model's first step."""
        planned = prefetch.plan(run.question, self.deps.catalog, set(self.deps.registry.names()))
        for call in planned:
            await self._call_tool(run, {"tool": call.tool, "args": call.args}, on_event)

    async def _model_step(
        self, run: _Run, *, allow_tools: bool, on_event: EventCallback
    ) -> dict[str, Any] | None:
        catalog = self.deps.catalog
        enums = {"tag": catalog.tag_names(), "equipment": catalog.equipment_names()}
        schema = step_schema(
            self.deps.registry,
            enums,
            run.evidence.ids(),
            allow_tools=allow_tools,
            # With evidence in hand the answer says what it shows and what is missing;
            # a small model otherwise gives up on data it has.
            allow_cannot_answer=not run.evidence.ids(),
        )
        first_token: list[float] = []
        t0 = time.monotonic()

        def token(text: str) -> None:
            if not first_token:
                first_token.append(time.monotonic() - t0)
            on_event(AgentEvent("token", text))

        prefix = self.prefix()
        try:
            result: StepResult = await astep(
                self.deps.model,
                prefix,
                run.history,
                schema,
                on_token=token,
                max_tokens=run.step_tokens,
            )
        except ModelOutputError as exc:
            run.audit("error", {"stage": "model_call", "error": exc.message, "output": exc.text})
            # Constrained decoding only yields invalid JSON when it is cut off: the step is
            # tried again with room to finish. Nothing is added to the history, since a
            # small model copies any error text it sees into its answer.
            run.step_tokens = min(run.step_tokens * 2, MAX_STEP_TOKENS)
            return None
        run.timings.model_s += result.timings.total_s
        run.timings.model_steps += 1
        run.timings.prompt_tokens_evaluated += result.prompt_tokens_evaluated
        run.timings.completion_tokens += result.completion_tokens
        if run.timings.first_token_s is None and first_token:
            run.timings.first_token_s = round(first_token[0], 3)
        run.audit(
            "model_call",
            {
                "model": self.deps.model.info.name,
                "model_sha256": self.deps.model.info.sha256,
                "prompt_hash": result.prompt_hash,
                "prefix_hash": result.prefix_hash,
                "output": result.text,
                "prompt_tokens": result.prompt_tokens,
                "completion_tokens": result.completion_tokens,
            },
        )
        run.history.append(ChatMessage("assistant", result.text))
        data = result.data
        return data if isinstance(data, dict) else None

    async def _call_tool(
        self, run: _Run, action: dict[str, Any], on_event: EventCallback
    ) -> None:
        name = str(action.get("tool"))
        raw_args = action.get("args") or {}
        args_dict = raw_args if isinstance(raw_args, dict) else {}
        key = f"{name}:{compact_json(args_dict)}"
        if key in run.calls_seen:
            # Small models repeat themselves; the same call gives the same evidence.
            note = {"note": f"already read as {run.calls_seen[key]}; answer from it now"}
            run.history.append(ChatMessage("tool", f"{run.calls_seen[key]} {name}: " +
                                           compact_json(note), name=name))
            return
        spec = self.deps.registry.get(name)
        decision = run.limits.gate.decide(run.actor, run.role, spec, args_dict)
        if decision.allowed and _changes_plant(spec) and not asks_for_change(run.question):
            # Only a person's own request may start a change: words planted in a manual,
            # a work order or an OPC UA value never create an approval request.
            decision = Decision(
                False, f"{name} was not run: the question did not ask for a change",
                "change-not-requested",
            )
        run.audit(
            "policy_decision",
            {"tool": name, "args": args_dict, "allowed": decision.allowed,
             "reason": decision.reason, "rule": decision.rule},
            tool=name,
        )
        if not decision.allowed:
            run.add_result(name, args_dict, {"refused": decision.reason}, ok=False, cite=False)
            return
        on_event(AgentEvent("status", _describe_call(name, args_dict)))
        run.audit("tool_call", {"tool": name, "args": args_dict}, tool=name,
                  equipment=_equipment_of(args_dict))
        t0 = time.monotonic()
        try:
            args = spec.args_model.model_validate(args_dict)
            result = await asyncio.wait_for(
                spec.run(self.deps.tool_context, args), self.deps.tool_timeout_s
            )
            data: Any = result.model_dump(mode="json")
            ok = True
        except ValidationError as exc:
            data = {"error": "invalid arguments", "details": _validation_summary(exc)}
            ok = False
        except ToolError as exc:
            data = {"error": exc.message, "fix": exc.fix, "retryable": exc.retryable}
            if exc.suggestions:
                data["did_you_mean"] = exc.suggestions
            ok = False
        except TimeoutError:
            data = {"error": f"{name} did not finish in {self.deps.tool_timeout_s:.0f} s",
                    "retryable": True}
            ok = False
        run.timings.tools_s += time.monotonic() - t0
        evidence = run.add_result(name, args_dict, data, ok=ok)
        run.audit("tool_result", {"tool": name, "ok": ok, "result": data,
                                  "evidence_id": evidence.id if evidence else None}, tool=name)
        if evidence is not None and ok:
            run.calls_seen[key] = evidence.id
            on_event(AgentEvent("evidence", evidence.id))

    def _redraft(self, run: _Run, draft: AgentAnswer, *, steps_left: int) -> bool:
        """Send an ungrounded draft back once, naming what no evidence supports."""
        if draft.outcome != "answered" or draft.grounded or run.redrafted or steps_left < 1:
            return False
        run.redrafted = True
        run.first_draft = draft
        claims = ", ".join(dict.fromkeys(c.text for c in draft.unsupported))
        cited = ", ".join(draft.citations) or "nothing"
        run.audit("answer", {"draft": draft.answer, "grounded": False, "redraft": True,
                             "unsupported": [u.model_dump() for u in draft.unsupported]})
        run.history.append(ChatMessage(
            "tool",
            f"{REDRAFT_PREFIX} {cited}: {claims}. Rewrite the answer with only facts from "
            f"{cited}.",
            name="grounding_check",
        ))
        return True

    def _finish(self, run: _Run, action: dict[str, Any]) -> AgentAnswer:
        if action.get("action") == "cannot_answer":
            reason = str(action.get("reason", "")).strip()
            needed = str(action.get("needed", "")).strip()
            text = f"I cannot answer this from the plant data: {reason} Needed: {needed}"
            return self._answer(run, text, [], outcome="cannot_answer", check=False)
        citations = [str(c) for c in action.get("citations") or []]
        return self._answer(run, str(action.get("answer", "")), citations, outcome="answered")

    def _answer(
        self,
        run: _Run,
        text: str,
        citations: Sequence[str],
        *,
        outcome: Any,
        check: bool = True,
    ) -> AgentAnswer:
        catalog = self.deps.catalog
        cited = [e for c in dict.fromkeys(citations) if (e := run.evidence.get(c))]
        report = check_grounding(
            text,
            cited,
            tag_names=catalog.tag_names(),
            equipment_names=catalog.equipment_names(),
            units=[t.unit for t in catalog.tags.values() if t.unit],
        )
        if not check:
            # "Cannot answer" states no readings; names in it still must be real.
            report.claims = [c for c in report.claims if c.kind != "number"]
            report.grounded = all(c.supported for c in report.claims) or not report.claims
        return AgentAnswer(
            question=run.question,
            answer=report.marked_answer if check else text,
            outcome=outcome,
            citations=[e.id for e in cited],
            steps=run.steps,
            grounded=report.grounded if check else True,
            unsupported=[
                UnsupportedClaim(kind=c.kind, text=c.text, reason=c.reason)
                for c in report.unsupported
            ] if check else [],
            model=self.deps.model.info.name,
            model_sha256=self.deps.model.info.sha256,
            timings=run.timings,
        )

    def _budget_exhausted(self, run: _Run) -> AgentAnswer:
        gathered = ", ".join(run.evidence.ids()) or "nothing"
        text = (
            f"I could not finish within the step or time budget. Evidence gathered: {gathered}."
        )
        answer = self._answer(run, text, [], outcome="budget_exhausted", check=False)
        return answer


_ISO_FRACTION = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+(Z|[+-]\d\d:\d\d)?$")


def model_view(value: Any) -> Any:
    """The compact form of a result the model reads: no nulls, no false flags, floats
    rounded to what a reading means, timestamps to the second, a server timestamp that
    repeats the source timestamp dropped. The evidence keeps the exact result."""
    if isinstance(value, dict):
        out = {k: model_view(v) for k, v in value.items() if v is not None and v is not False}
        if out.get("server_timestamp") == out.get("source_timestamp"):
            out.pop("server_timestamp", None)
        return out
    if isinstance(value, list):
        return [model_view(v) for v in value]
    if isinstance(value, float):
        return round(value, 2) if abs(value) >= 1 else float(f"{value:.3g}")
    if isinstance(value, str):
        match = _ISO_FRACTION.match(value)
        if match:
            return match.group(1) + (match.group(2) or "")
    return value


def _changes_plant(spec: ToolSpec) -> bool:
    """Proposals and writes: the calls that can lead to a change of the plant."""
    return spec.writes_to_plant or spec.requires_approval or spec.name == PROPOSE_TOOL


def _describe_call(name: str, args: dict[str, Any]) -> str:
    tags = args.get("tags")
    if isinstance(tags, list):
        return f"{name}: reading {len(tags)} tag(s) ({', '.join(map(str, tags[:3]))})..."
    target = args.get("equipment") or args.get("tag") or ""
    return f"{name} {target}...".replace("  ", " ")


def _equipment_of(args: dict[str, Any]) -> str | None:
    if isinstance(args.get("equipment"), str):
        return str(args["equipment"])
    for key in ("tag", "tags"):
        value = args.get(key)
        first = value[0] if isinstance(value, list) and value else value
        if isinstance(first, str) and "." in first:
            return first.split(".", 1)[0]
    return None


def _validation_summary(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()][:5]
